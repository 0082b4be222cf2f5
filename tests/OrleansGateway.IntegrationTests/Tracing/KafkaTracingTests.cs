using System.Diagnostics;
using System.Text;
using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.IntegrationTests.Kafka;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.IntegrationTests.Tracing;

/// <summary>W3C <c>traceparent</c> on Kafka records, out (clients' <c>up</c>) and in (backend records), on the real gateway.</summary>
public sealed class KafkaTracingTests(TracingKafkaGatewayCluster cluster) : IClassFixture<TracingKafkaGatewayCluster>
{
    [Fact]
    public async Task Up_Traced_RecordCarriesTheTraceParentOfItsPublishSpanUnderTheFrame()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var client = $"up-{run}";
        await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(client));

        Assert.Equal("ok", (await sender.RequestAsync($$$"""{"t":"up","id":"$id","topic":"orders","data":{"run":"{{{run}}}"}}""")).Type());

        var up = await cluster.Recorder!.WaitForSpanAsync(s => s.OperationName == "up" && (string?)s.GetTagItem("ogw.client_id") == client, "the up frame's span");
        var publish = await cluster.Recorder!.WaitForSpanAsync(s => s.Source.Name == KafkaTracing.SourceName && s.ParentSpanId == up.SpanId, "the publish span under it");
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        var record = KafkaTestKit.ConsumeAll(cluster.Kafka.BootstrapServers, cluster.UpstreamTopic)
            .Single(r => Encoding.UTF8.GetString(r.Message.Value).Contains(run, StringComparison.Ordinal));
        Assert.True(record.Message.Headers.TryGetLastBytes(KafkaTracing.TraceParentHeader, out var header));
        Assert.Equal(publish.Id, Encoding.ASCII.GetString(header));
    }

    [Fact]
    public async Task BackendRecord_WithTraceParent_GrainAndDeliverySpansContinueThatTrace()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var client = $"in-{run}";
        await using var recipient = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256(client));
        await recipient.WaitForFrameAsync("welcome");
        var producer = ActivityContext.Parse($"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01", null);
        var message = KafkaTestKit.Record(client, """{"bill":1}""", target: "client", from: "billing");
        message.Headers.Add(KafkaTracing.TraceParentHeader, Encoding.ASCII.GetBytes($"00-{producer.TraceId}-{producer.SpanId}-01"));

        await cluster.Producer.ProduceAsync(cluster.InboundTopic, message);
        await recipient.WaitForMessagesAsync(1);

        var inbound = await cluster.Recorder!.WaitForSpanAsync(s => s.OperationName == "inbound client" && s.TraceId == producer.TraceId, "the grain's inbound span");
        Assert.Equal(producer.SpanId, inbound.ParentSpanId);
        var deliver = await cluster.Recorder!.WaitForSpanAsync(
            s => s.OperationName == "deliver message" && s.TraceId == producer.TraceId && (string?)s.GetTagItem("ogw.client_id") == client,
            "the recipient edge's delivery span");
        Assert.Equal(inbound.SpanId, deliver.ParentSpanId);
    }
}
