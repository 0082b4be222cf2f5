using Orleans.Runtime;
using Orleans.Streams;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Orleans calls this when it gave up delivering a record: the consumer kept failing for
/// <c>StreamPullingAgentOptions.MaxEventDeliveryTime</c>, or the pulling agent is stopping. The partition's receiver logs
/// and counts it, and commits past it only if its agent keeps running (a genuine give-up), so one poisoned record cannot
/// hold a partition's commits back forever while a stopping silo never commits past an undelivered record.
/// Subscriptions are not faulted.
/// </summary>
internal sealed class KafkaDeliveryFailureHandler : IStreamFailureHandler
{
    private readonly Func<KafkaAdapterReceiver?> _receiver;

    public KafkaDeliveryFailureHandler(Func<KafkaAdapterReceiver?> receiver) => _receiver = receiver;

    public bool ShouldFaultSubsriptionOnError => false;

    public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        if (sequenceToken is KafkaSequenceToken token)
        {
            _receiver()?.GiveUp(token);
        }

        return Task.CompletedTask;
    }

    public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken) =>
        Task.CompletedTask;
}
