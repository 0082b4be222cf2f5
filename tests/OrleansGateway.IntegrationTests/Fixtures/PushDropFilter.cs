using System.Collections.Concurrent;
using OrleansGateway.Grains;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// Test-only silo filter: swallows the next pushes of a client's messages to its edges, as Orleans does with a
/// one-way message whose connection dropped. Off unless a test arms it for a client id.
/// </summary>
internal sealed class PushDropFilter : IOutgoingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, int> Armed = new(StringComparer.Ordinal);

    /// <summary>Drops the next <paramref name="count"/> pushes of <paramref name="clientId"/>'s messages.</summary>
    public static void DropNext(string clientId, int count) => Armed[clientId] = count;

    /// <summary>Pushes armed but not dropped yet.</summary>
    public static int Remaining(string clientId) => Armed.GetValueOrDefault(clientId);

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        // Only pushes are looked at: other calls may have no argument at all.
        if (Armed.IsEmpty || context.Request.GetArgumentCount() == 0)
        {
            return context.Invoke();
        }

        switch (context.Request.GetArgument(0))
        {
            case MailboxBatch batch when context.InterfaceMethod?.Name == nameof(IEdgeObserver.DeliverAsync) && TryConsume(batch.ClientId):
                return Task.CompletedTask; // lost on the way: the edge never sees it
            case MailboxBatch[] batches when context.InterfaceMethod?.Name == nameof(IEdgeObserver.DeliverManyAsync):
                // The silo coalesced several clients' pushes into one call: lose only the armed clients' parts.
                var kept = batches.Where(b => !TryConsume(b.ClientId)).ToArray();
                if (kept.Length == 0)
                {
                    return Task.CompletedTask;
                }

                context.Request.SetArgument(0, kept);
                return context.Invoke();
            default:
                return context.Invoke();
        }
    }

    private static bool TryConsume(string clientId)
    {
        while (Armed.TryGetValue(clientId, out var left) && left > 0)
        {
            if (Armed.TryUpdate(clientId, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }
}
