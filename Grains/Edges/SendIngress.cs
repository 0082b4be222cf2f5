using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// This silo's <see cref="ISendIngress"/>: takes an edge's batch of <c>send</c>s in one Orleans message and passes each
/// to its recipient's grain as a one-way call from here (a local call when the grain lives on this silo, the forward
/// the gateway would have made otherwise). A send that cannot even be passed on is answered
/// <see cref="SendOutcome.Unavailable"/> at once through the edge's push, rather than left to the edge's timeout.
/// </summary>
/// <remarks>
/// A stateless worker: placed on the silo that takes the call, which for an edge is the gateway silo its calls to this
/// key go through, and with no state to keep, as many activations as the silo needs. A system target would let an edge
/// pick the silo, but Orleans' client reaches one only by an address it keeps to itself.
/// </remarks>
[StatelessWorker]
internal sealed partial class SendIngress : Grain, ISendIngress
{
    private readonly Func<string, IClientSessionGrain> _grain;
    private readonly EdgeDirectory _edges;
    private readonly ILogger _logger;

    public SendIngress(IGrainFactory grains, EdgeDirectory edges, ILogger<SendIngress> logger)
        : this(ClientSessionGrains(grains), edges, logger)
    {
    }

    internal SendIngress(Func<string, IClientSessionGrain> grain, EdgeDirectory edges, ILogger logger)
    {
        _grain = grain;
        _edges = edges;
        _logger = logger;
    }

    public Task SendManyAsync(string edgeId, OutboundSend[] sends)
    {
        foreach (var send in sends)
        {
            try
            {
                var queued = _grain(send.To).SendOneWayAsync(send.From, send.Data, send.Key, edgeId, send.Ticket);
                if (!queued.IsCompletedSuccessfully)
                {
                    _ = AnswerIfNotQueuedAsync(queued, edgeId, send);
                }
            }
            catch (Exception ex)
            {
                NotPassedOn(ex, edgeId, send);
            }
        }

        return Task.CompletedTask;
    }

    private async Task AnswerIfNotQueuedAsync(Task queued, string edgeId, OutboundSend send)
    {
        try
        {
            await queued;
        }
        catch (Exception ex)
        {
            NotPassedOn(ex, edgeId, send);
        }
    }

    // Not sent to the grain at all, so not taken: the sender may retry (the same answer a failing mailbox gives).
    private void NotPassedOn(Exception exception, string edgeId, OutboundSend send)
    {
        Log.NotPassedOn(_logger, exception, send.From, send.To);
        _edges.Acknowledge(edgeId, new SendAck(send.Ticket, SendOutcome.Unavailable, 0));
    }

    /// <summary>References by client id, the interface resolved once: <c>GetGrain&lt;T&gt;(key)</c> resolves it by reflection on every call.</summary>
    private static Func<string, IClientSessionGrain> ClientSessionGrains(IGrainFactory grains)
    {
        var resolved = new Lazy<(GrainType Type, GrainInterfaceType Interface)>(() =>
        {
            var sample = (GrainReference)(object)grains.GetGrain<IClientSessionGrain>("resolve");
            return (sample.GrainId.Type, sample.InterfaceType);
        });
        return to => (IClientSessionGrain)grains.GetGrain(GrainId.Create(resolved.Value.Type, to), resolved.Value.Interface);
    }

    private static partial class Log
    {
        [LoggerMessage(6, LogLevel.Warning, "A batched send from {From} to {To} could not be passed to its grain; the sender is told unavailable", EventName = "BatchedSendNotPassedOn")]
        public static partial void NotPassedOn(ILogger logger, Exception exception, string from, string to);
    }
}
