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

        if (context.Request.GetArgument(0) is not EdgePush push || context.InterfaceMethod?.Name != nameof(IEdgeObserver.PushAsync))
        {
            return context.Invoke();
        }

        // The silo coalesces several clients' pushes into one call: lose only the armed clients' parts.
        var kept = push.Mailboxes.Where(b => !TryConsume(b.ClientId)).ToArray();
        if (kept.Length == push.Mailboxes.Length)
        {
            return context.Invoke();
        }

        if (kept.Length == 0 && push.Channels.Length == 0)
        {
            return Task.CompletedTask; // lost on the way: the edge never sees it
        }

        context.Request.SetArgument(0, push with { Mailboxes = kept });
        return context.Invoke();
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
