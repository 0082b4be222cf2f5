using Orleans.Streams;
using Orleans.Streams.Core;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>
/// Inbound: backend messages arrive on the implicit stream of this grain's key (at least once) and are appended once,
/// redeliveries dropped by their position.
/// </summary>
internal abstract partial class MessageLogGrain : IStreamSubscriptionObserver
{
    // The position of the backend message being accepted: persisted with the one append it causes.
    private InboundPosition? _accepting;

    // Created on first use: most grains never get a backend message (a null reference instead of an object per grain).
    private InboundDeduplicator? _inbound;

    /// <summary>Backend messages already accepted, per Kafka partition.</summary>
    protected InboundDeduplicator Inbound => _inbound ??= new();

    /// <summary>Attaches the implicit subscription to the inbound backend stream of this grain's key.</summary>
    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<InboundMessage>().ResumeAsync((message, _) => OnInboundAsync(message));

    private async Task OnInboundAsync(InboundMessage message)
    {
        await SettleDurableAsync();
        if (_inbound is not null && _inbound.IsDuplicate(message))
        {
            Metrics.InboundDuplicate();
            return;
        }

        using var span = GrainTracing.StartInbound(Kind, message);

        // The grain is not reentrant, so the one append this causes is the one that persists the position with it.
        _accepting = message.Source is { } source ? new InboundPosition(source, message.Position) : null;
        try
        {
            await AcceptInboundAsync(message);
        }
        finally
        {
            _accepting = null;
        }

        // Only now: a message whose append failed is redelivered, and must not be taken for a duplicate then.
        Inbound.Accepted(message);
    }

    /// <summary>Adds positions loaded from the durable store (nothing is created for none).</summary>
    private void MergeInbound(IReadOnlyDictionary<string, long> positions)
    {
        if (positions.Count > 0)
        {
            Inbound.Merge(positions);
        }
    }

    /// <summary>Appends a backend message (mailbox or channel) and pushes it; returns once accepted.</summary>
    protected abstract Task AcceptInboundAsync(InboundMessage message);
}
