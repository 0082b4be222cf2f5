using System.Collections.Concurrent;
using OrleansGateway.EdgeHost.Draining;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>The sessions this edge holds, by client id, and the connection count the cap is checked against.</summary>
internal sealed class SessionRegistry : IDrainableSessions
{
    private readonly object _emptyGate = new();
    private TaskCompletionSource? _empty;
    private readonly ConcurrentDictionary<string, ClientSession[]> _byClient = new(StringComparer.Ordinal);
    private long _nextSessionId;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public long NextSessionId() => Interlocked.Increment(ref _nextSessionId);

    /// <summary>Reserves a connection slot; false when the edge is full.</summary>
    public bool TryReserve(int max)
    {
        while (true)
        {
            var current = Volatile.Read(ref _count);
            if (current >= max)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _count) == 0)
        {
            lock (_emptyGate)
            {
                _empty?.TrySetResult();
                _empty = null;
            }
        }
    }

    public Task WhenEmptyAsync()
    {
        lock (_emptyGate)
        {
            return Count == 0 ? Task.CompletedTask : (_empty ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    public IReadOnlyList<IDrainableSession> Snapshot() => All().ToList();

    public void Add(ClientSession session) =>
        _byClient.AddOrUpdate(session.ClientId, static (_, s) => [s], static (_, list, s) => [.. list, s], session);

    public void Remove(ClientSession session)
    {
        while (_byClient.TryGetValue(session.ClientId, out var list))
        {
            var index = Array.IndexOf(list, session);
            if (index < 0)
            {
                return;
            }

            if (list.Length == 1)
            {
                if (_byClient.TryRemove(new KeyValuePair<string, ClientSession[]>(session.ClientId, list)))
                {
                    return;
                }
            }
            else
            {
                var next = new ClientSession[list.Length - 1];
                Array.Copy(list, next, index);
                Array.Copy(list, index + 1, next, index, list.Length - index - 1);
                if (_byClient.TryUpdate(session.ClientId, next, list))
                {
                    return;
                }
            }
        }
    }

    /// <summary>This edge's sessions of <paramref name="clientId"/> (a snapshot; empty when none).</summary>
    public ClientSession[] Get(string clientId) => _byClient.TryGetValue(clientId, out var list) ? list : [];

    public IEnumerable<ClientSession> All() => _byClient.Values.SelectMany(s => s);
}
