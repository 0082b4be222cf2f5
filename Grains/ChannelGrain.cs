using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>
/// One channel: offsets, bounded history, and the edges with local subscribers. A channel with 10,000
/// subscribers on 3 edges costs 3 pushes per publication (fewer calls: they join the silo's per-edge pushes).
/// </summary>
[ImplicitStreamSubscription(InboundStreams.ChannelNamespace)]
internal sealed class ChannelGrain(IOptions<ChannelOptions> options, TimeProvider time, EdgeDirectory edges, GrainMetrics metrics, MessageLogStoreFactory stores)
    : MessageLogGrain(options.Value, time, edges, metrics, stores), IChannelGrain, IChannelSubscriptionGrain
{
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

    // Placeholders until the presence (#14) work lands on main; no caller uses them yet.

    public Task<ChannelMembers> GetMembersAsync(string? after, int limit) => throw new NotImplementedException();

    public Task<ChannelMemberStats> GetMemberStatsAsync() => throw new NotImplementedException();

    public async Task<StreamReplay> SubscribeEdgeAsync(string edgeId, IEdgeObserver edge, long? since)
    {
        await PruneAsync();
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
        await PruneAsync();

        return Edges.EdgeCount;
    }

    protected override Task AcceptInboundAsync(InboundMessage message) => PublishAsync(message.From, message.Data);

    protected override void Deliver(StreamMessage publication)
    {
        Pushed(Edges.Push(ChannelBatch.Of(Channel, publication)));
        RepushLater();
    }
}
