using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Tracing;

[Collection(TracingCollection.Name)]
public sealed class MessageTracingTests(TracingGatewayCluster cluster)
{
    [Fact]
    public async Task Send_FromOneEdgeToAClientOnTheOther_OneConnectedTraceFromFrameToDelivery()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var recipient = $"b-{run}";

        // The recipient's grain on the second silo (placement hint), whichever silo the sender's edge enters by.
        var second = cluster.Silos[1].Host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        RequestContext.Set(IPlacementDirector.PlacementHintKey, second);
        try
        {
            await cluster.Backend.GetGrain<IClientGrain>(recipient).GetPresenceAsync();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"a-{run}"));
        await using var receiver = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256(recipient));
        await receiver.WaitForFrameAsync("welcome");

        var id = await sender.SendAsync(recipient, """{"hello":1}""");
        Assert.Equal("ok", (await sender.WaitForReplyAsync(id)).Type());
        await receiver.WaitForMessagesAsync(1);

        var send = await WaitForSpanAsync(s => s.OperationName == "send" && (string?)s.GetTagItem("ogw.to") == recipient, "the sender's send span");
        var deliver = await WaitForSpanAsync(
            s => s.OperationName == "deliver message" && (string?)s.GetTagItem("ogw.client_id") == recipient && s.TraceId == send.TraceId,
            "the recipient edge's delivery span in the send's trace");

        var trace = cluster.Recorder!.Spans.Where(s => s.TraceId == send.TraceId).ToList();
        var byId = trace.ToDictionary(s => s.SpanId);

        // One root: the frame on the sender's edge; every other span's parent is in the same trace.
        Assert.Equal(default, send.ParentSpanId);
        Assert.Equal([send], trace.Where(s => s.ParentSpanId == default));
        Assert.All(trace.Where(s => s != send), s => Assert.Contains(s.ParentSpanId, byId.Keys));

        // Delivery ← the grain call as the silo served it ← the same call as the sender's edge made it ← the frame.
        var served = byId[deliver.ParentSpanId];
        Assert.StartsWith("Microsoft.Orleans.", served.Source.Name, StringComparison.Ordinal);
        Assert.Equal(ActivityKind.Server, served.Kind);
        Assert.Contains(nameof(IClientSessionGrain.SendOneWayAsync), served.OperationName, StringComparison.Ordinal);
        var call = byId[served.ParentSpanId];
        Assert.Equal(ActivityKind.Client, call.Kind);
        Assert.Equal(send.SpanId, call.ParentSpanId);
    }

    [Fact]
    public async Task Attach_AndResume_EachARootSpanWithTheirOutcome()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var client = $"r-{run}";
        await using (var first = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(client)))
        {
            await first.WaitForFrameAsync("welcome");
        }

        await using var second = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256(client), lastSeq: 0);
        await second.WaitForFrameAsync("welcome");

        var attach = await WaitForSpanAsync(s => s.OperationName == "attach" && (string?)s.GetTagItem("ogw.client_id") == client, "the attach span");
        var resume = await WaitForSpanAsync(s => s.OperationName == "resume" && (string?)s.GetTagItem("ogw.client_id") == client, "the resume span");
        Assert.Equal(default, attach.ParentSpanId);
        Assert.Equal(true, resume.GetTagItem("ogw.recovered"));
        Assert.Contains(cluster.Recorder!.Spans, s => s.TraceId == resume.TraceId && s.ParentSpanId == resume.SpanId
            && s.Kind == ActivityKind.Client && s.OperationName.Contains(nameof(IClientSessionGrain.AttachAsync), StringComparison.Ordinal));
    }

    private Task<Activity> WaitForSpanAsync(Func<Activity, bool> match, string what) => cluster.Recorder!.WaitForSpanAsync(match, what);
}
