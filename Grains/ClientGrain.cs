using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.Mailboxes;

namespace OrleansGateway.Grains;

/// <summary>
/// One client's mailbox and attached sessions. Non-reentrant: an attach (snapshot + replay) and a send
/// never interleave, which is what makes the resume seam gap-free.
/// </summary>
internal sealed partial class ClientGrain : Grain, IClientGrain, IGrainMigrationParticipant
{
    private const string MailboxKey = "mailbox";
    private const string SessionsKey = "sessions";

    private readonly MailboxOptions _options;
    private readonly TimeProvider _time;
    private readonly EdgeLeaseCache _leases;
    private readonly ILogger<ClientGrain> _logger;
    private readonly Dictionary<string, EdgeSessions> _edges = new(StringComparer.Ordinal);
    private Mailbox _mailbox;
    private IGrainTimer? _sweep;

    public ClientGrain(IOptions<MailboxOptions> options, TimeProvider time, EdgeLeaseCache leases, ILogger<ClientGrain> logger)
    {
        _options = options.Value;
        _time = time;
        _leases = leases;
        _logger = logger;
        _mailbox = new Mailbox(_options.MaxMessages, _options.MaxAge, time);
    }

    private string ClientId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        UpdateKeepAlive();
        return Task.CompletedTask;
    }

    public async Task<AttachResult> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq)
    {
        await PruneLapsedEdgesAsync();
        if (!_edges.TryGetValue(edgeId, out var sessions))
        {
            sessions = new EdgeSessions(edge, []);
            _edges[edgeId] = sessions;
        }
        else if (!sessions.Observer.Equals(edge))
        {
            // The edge re-created its observer (client reconnect to the cluster): push to the new one.
            _edges[edgeId] = sessions = sessions with { Observer = edge };
        }

        sessions.Ids.Add(sessionId);
        UpdateKeepAlive();
        return lastSeq is { } after ? _mailbox.ReadSince(after) : new AttachResult(_mailbox.Seq, true, []);
    }

    public Task DetachAsync(string edgeId, long sessionId)
    {
        if (_edges.TryGetValue(edgeId, out var sessions) && sessions.Ids.Remove(sessionId) && sessions.Ids.Count == 0)
        {
            _edges.Remove(edgeId);
            UpdateKeepAlive();
        }

        return Task.CompletedTask;
    }

    public async Task<long> SendAsync(string from, byte[] data)
    {
        var message = _mailbox.Append(from, data);
        if (_edges.Count > 0)
        {
            await PushAsync(new MailboxBatch(ClientId, [message]));
        }
        else
        {
            // Nobody to push to: the message waits in retention, so the grain must outlive it.
            DelayDeactivation(_options.MaxAge);
        }

        return message.Seq;
    }

    public Task<AttachResult> ReadSinceAsync(long afterSeq) => Task.FromResult(_mailbox.ReadSince(afterSeq));

    public async Task<int> DisconnectAsync(string code)
    {
        await PruneLapsedEdgesAsync();
        var told = 0;
        foreach (var (edgeId, sessions) in _edges)
        {
            try
            {
                await sessions.Observer.DisconnectAsync(ClientId, code);
                told += sessions.Ids.Count;
            }
            catch (Exception ex)
            {
                Log.PushFailed(_logger, ex, ClientId, edgeId);
            }
        }

        return told;
    }

    public async Task<Presence> GetPresenceAsync()
    {
        await PruneLapsedEdgesAsync();
        var sessions = 0;
        foreach (var edge in _edges.Values)
        {
            sessions += edge.Ids.Count;
        }

        return new Presence(sessions > 0, sessions, _mailbox.Seq);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown)
        {
            // A graceful silo stop does not migrate by itself (notes/orleans.md §3): ask for it, and carry
            // the mailbox and sessions in OnDehydrate.
            this.MigrateOnIdle();
        }

        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        dehydrationContext.TryAddValue(MailboxKey, _mailbox.ToSnapshot());
        dehydrationContext.TryAddValue(SessionsKey, _edges.Select(e => new EdgeSessionsSnapshot(e.Key, e.Value.Observer, [.. e.Value.Ids])).ToArray());
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue(MailboxKey, out MailboxSnapshot? mailbox) && mailbox is not null)
        {
            _mailbox = new Mailbox(_options.MaxMessages, _options.MaxAge, _time, mailbox);
        }

        if (rehydrationContext.TryGetValue(SessionsKey, out EdgeSessionsSnapshot[]? sessions) && sessions is not null)
        {
            foreach (var edge in sessions)
            {
                _edges[edge.EdgeId] = new EdgeSessions(edge.Observer, [.. edge.SessionIds]);
            }
        }
    }

    private async Task PushAsync(MailboxBatch batch)
    {
        List<string>? lapsed = null;
        foreach (var (edgeId, sessions) in _edges)
        {
            try
            {
                if (!await _leases.IsAliveAsync(edgeId))
                {
                    (lapsed ??= []).Add(edgeId);
                    continue;
                }

                // [OneWay]: returns once queued; a dead edge cannot block this grain.
                await sessions.Observer.DeliverAsync(batch);
            }
            catch (Exception ex)
            {
                // One failed edge never stops delivery to the others; the client recovers by resuming.
                Log.PushFailed(_logger, ex, ClientId, edgeId);
            }
        }

        RemoveEdges(lapsed);
    }

    private async Task PruneLapsedEdgesAsync()
    {
        List<string>? lapsed = null;
        foreach (var edgeId in _edges.Keys)
        {
            if (!await _leases.IsAliveAsync(edgeId))
            {
                (lapsed ??= []).Add(edgeId);
            }
        }

        RemoveEdges(lapsed);
    }

    private void RemoveEdges(List<string>? lapsed)
    {
        if (lapsed is null)
        {
            return;
        }

        foreach (var edgeId in lapsed)
        {
            if (_edges.Remove(edgeId, out var sessions))
            {
                Log.EdgeLeaseLapsed(_logger, ClientId, edgeId, sessions.Ids.Count);
            }
        }

        UpdateKeepAlive();
    }

    /// <summary>
    /// While sessions are attached the grain must stay (its sessions live only here) and a timer sweeps
    /// sessions of dead edges; without sessions it only has to outlive its retention window.
    /// </summary>
    private void UpdateKeepAlive()
    {
        if (_edges.Count > 0)
        {
            DelayDeactivation(Timeout.InfiniteTimeSpan);
            _sweep ??= this.RegisterGrainTimer(
                static (grain, _) => grain.PruneLapsedEdgesAsync(),
                this,
                new GrainTimerCreationOptions(_options.SessionSweepInterval, _options.SessionSweepInterval) { Interleave = false });
        }
        else
        {
            _sweep?.Dispose();
            _sweep = null;
            DelayDeactivation(TimeSpan.Zero);
            DelayDeactivation(_options.MaxAge);
        }
    }

    private sealed record EdgeSessions(IEdgeObserver Observer, HashSet<long> Ids);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Push to edge {EdgeId} for client {ClientId} failed", EventName = "PushFailed")]
        public static partial void PushFailed(ILogger logger, Exception exception, string clientId, string edgeId);

        [LoggerMessage(2, LogLevel.Information, "Edge {EdgeId} lease lapsed: dropped {Sessions} session(s) of client {ClientId}", EventName = "EdgeLeaseLapsed")]
        public static partial void EdgeLeaseLapsed(ILogger logger, string clientId, string edgeId, int sessions);
    }
}

/// <summary>Sessions of one edge as carried by grain migration.</summary>
[GenerateSerializer, Immutable, Alias("ogw.EdgeSessionsSnapshot")]
internal sealed record EdgeSessionsSnapshot(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] IEdgeObserver Observer,
    [property: Id(2)] long[] SessionIds);
