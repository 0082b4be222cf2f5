using OrleansGateway.Grains;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>Reads the Kafka coordinates back out of an <see cref="InboundMessage"/> (Source = topic/partition, Position = offset).</summary>
internal static class InboundMessageTestExtensions
{
    public static string Topic(this InboundMessage message) => message.Source![..message.Source!.LastIndexOf('/')];

    public static int Partition(this InboundMessage message) => int.Parse(message.Source![(message.Source!.LastIndexOf('/') + 1)..]);

    public static long Offset(this InboundMessage message) => message.Position;
}
