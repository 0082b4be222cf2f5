using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.Grains.Members;

namespace OrleansGateway.Grains;

/// <summary>
/// One channel: offsets, bounded history, and the edges with local subscribers. A channel with 10,000
/// subscribers on 3 edges costs 3 pushes per publication (fewer calls: they join the silo's per-edge pushes).
/// Its members (presence) are <c>ChannelGrain.Presence.cs</c>'s.
/// </summary>
[ImplicitStreamSubscription(InboundStreams.ChannelNamespace)]
internal sealed partial class ChannelGrain(
    IOptions<ChannelOptions> options, IOptions<PresenceOptions> presence, TimeProvider time, EdgeDirectory edges, GrainMetrics metrics, MessageLogStoreFactory stores)
    : MessageLogGrain(options.Value, time, edges, metrics, stores), IChannelGrain, IChannelSubscriptionGrain
{
    private readonly PresenceOptions _presenceOptions = presence.Value;
    private readonly TimeProvider _time = time;

    protected override string Kind => "channel";

    protected override string LogMigrationKey => "history";

    protected override string EdgesMigrationKey => "edges";

    private string Channel => Key;

    public async Task<long> PublishAsync(string from, byte[] data)
    {
        var publication = await AppendAsync(MessageLog, from, data);
        Deliver(publication);
        return publication.Seq;
    }

    public Task<Accepted> PublishOnceAsync(string from, byte[] data, string key) => AppendOnceAsync(from, data, key);

    public async Task<StreamReplay> SubscribeEdgeAsync(string edgeId, IEdgeObserver edge, long? since)
    {
        if (await PruneAsync())
        {
            EdgesDropped();
        }

        Edges.Add(edgeId, edge);
        UpdateKeepAlive();
        return Read(since);
    }

    public Task UnsubscribeEdgeAsync(string edgeId)
    {
        if (Edges.RemoveEdge(edgeId))
        {
            UpdateKeepAlive();
        }

        EdgeLeft(edgeId);
        return Task.CompletedTask;
    }

    public Task<StreamReplay> ReadSinceAsync(long? since) => Task.FromResult(Read(since));

    public Task RepushLastAsync()
    {
        if (RepushServed() is { } last)
        {
            Pushed(Edges.Push(ChannelBatch.Of(Channel, last)));
        }

        return Task.CompletedTask;
    }

    public async Task<int> GetEdgeCountAsync()
    {
        if (await PruneAsync())
        {
            EdgesDropped();
        }

        return Edges.EdgeCount;
    }

    protected override Task AcceptInboundAsync(InboundMessage message) => PublishAsync(message.From, message.Data);

    protected override void Deliver(StreamMessage publication)
    {
        var dropped = Edges.Push(ChannelBatch.Of(Channel, publication));
        Pushed(dropped);
        if (dropped)
        {
            EdgesDropped();
        }

        RepushLater();
    }
}
