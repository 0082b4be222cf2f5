using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;
using static OrleansGateway.EdgeHost.ServerApi.ServerApiRequests;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>Presence, members, stats, history, mailbox and cluster info: the calls a read-only key may make. Pages are bounded by <see cref="ServerApiOptions.MaxPageSize"/>.</summary>
internal static class ServerApiReads
{
    public static async Task<IResult> ClientPresenceAsync(string clientId, ServerApiCluster cluster)
    {
        if (CheckClientId(clientId, "clientId") is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        return await CallAsync(cluster, "client presence", async () =>
        {
            var presence = await cluster.Grains.GetGrain<IClientGrain>(clientId).GetPresenceAsync();
            return TypedResults.Json(new ClientPresenceResponse(clientId, presence.Online, presence.Sessions, presence.Seq), ServerApiJsonContext.Default.ClientPresenceResponse);
        });
    }

    public static async Task<IResult> MailboxAsync(string clientId, string? after, string? limit, ServerApiCluster cluster)
    {
        var (afterSeq, afterError) = OptionalNumber(after, "after");
        var (pageSize, limitError) = OptionalNumber(limit, "limit", min: 1);
        if ((CheckClientId(clientId, "clientId") ?? afterError ?? limitError) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        var size = (int)Math.Min(pageSize ?? cluster.Options.MaxPageSize, cluster.Options.MaxPageSize);
        return await CallAsync(cluster, "mailbox", async () =>
        {
            var replay = await cluster.Grains.GetGrain<IClientGrain>(clientId).ReadMailboxAsync(afterSeq ?? 0);
            var page = replay.Replay.Take(size).Select(m => new RetainedMessage(m.Seq, m.From, Parse(m.Data), m.AcceptedAtUnixMs)).ToList();
            long? next = replay.Replay.Count > size ? page[^1].Seq : null;
            return TypedResults.Json(new MailboxResponse(clientId, replay.Seq, replay.Recovered, page, next), ServerApiJsonContext.Default.MailboxResponse);
        });
    }

    public static async Task<IResult> ChannelMembersAsync(string? ch, string? after, string? limit, ServerApiCluster cluster)
    {
        var (pageSize, limitError) = OptionalNumber(limit, "limit", min: 1);
        if ((CheckChannel(ch, "ch") ?? (after is null ? null : CheckClientId(after, "after")) ?? limitError) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        var size = (int)Math.Min(pageSize ?? cluster.Options.MaxPageSize, cluster.Options.MaxPageSize);
        return await CallAsync(cluster, "channel members", async () =>
        {
            var members = await cluster.Grains.GetGrain<IChannelGrain>(ch!).GetMembersAsync(after, size);
            var entries = members.Members.Select(m => new ChannelMemberEntry(m.ClientId, m.Sessions)).ToList();
            return TypedResults.Json(new ChannelMembersResponse(ch!, members.Total, entries, members.Next), ServerApiJsonContext.Default.ChannelMembersResponse);
        });
    }

    public static async Task<IResult> ChannelStatsAsync(string? ch, ServerApiCluster cluster)
    {
        if (CheckChannel(ch, "ch") is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        return await CallAsync(cluster, "channel stats", async () =>
        {
            var stats = await cluster.Grains.GetGrain<IChannelGrain>(ch!).GetMemberStatsAsync();
            return TypedResults.Json(new ChannelStatsResponse(ch!, stats.Clients, stats.Sessions), ServerApiJsonContext.Default.ChannelStatsResponse);
        });
    }

    public static async Task<IResult> ChannelHistoryAsync(string? ch, string? since, string? limit, ServerApiCluster cluster)
    {
        var (sinceOffset, sinceError) = OptionalNumber(since, "since");
        var (pageSize, limitError) = OptionalNumber(limit, "limit", min: 1);
        if ((CheckChannel(ch, "ch") ?? sinceError ?? limitError) is { } invalid)
        {
            return cluster.Answer(ServerApiProblems.Invalid(invalid));
        }

        var size = (int)Math.Min(pageSize ?? cluster.Options.MaxPageSize, cluster.Options.MaxPageSize);
        return await CallAsync(cluster, "channel history", async () =>
        {
            var replay = await cluster.Grains.GetGrain<IChannelGrain>(ch!).ReadSinceAsync(sinceOffset ?? 0);
            var page = replay.Replay.Take(size).Select(m => new RetainedPublication(m.Seq, m.From, Parse(m.Data), m.AcceptedAtUnixMs)).ToList();
            long? next = replay.Replay.Count > size ? page[^1].Off : null;
            return TypedResults.Json(new HistoryResponse(ch!, replay.Seq, replay.Recovered, page, next), ServerApiJsonContext.Default.HistoryResponse);
        });
    }

    /// <summary>
    /// Silos from the membership table (active only), edges from the cluster's load view (every edge reports its count
    /// every <c>Gateway:Rebalance:Interval</c>, rebalancing on or off) with this edge's live count instead of its report.
    /// </summary>
    public static Task<IResult> ClusterInfoAsync(ServerApiCluster cluster, LocalEdge edge, SessionRegistry sessions) =>
        CallAsync(cluster, "cluster info", async () =>
        {
            var hosts = await cluster.Grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
            var loads = await cluster.Grains.GetGrain<IEdgeLoadGrain>(0).GetLoadsAsync();
            var silos = hosts.OrderBy(h => h.SiloName, StringComparer.Ordinal)
                .Select(h => new SiloInfo(h.SiloAddress.ToParsableString(), h.SiloName ?? "", h.Status.ToString())).ToList();
            var edges = loads.Where(l => l.EdgeId != edge.EdgeId).Select(l => new EdgeInfo(l.EdgeId, l.Connections))
                .Append(new EdgeInfo(edge.EdgeId, sessions.Count))
                .OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
            return TypedResults.Json(new ClusterInfoResponse(edge.EdgeId, silos, edges, edges.Sum(e => e.Connections)), ServerApiJsonContext.Default.ClusterInfoResponse);
        });

    private static async Task<IResult> CallAsync(ServerApiCluster cluster, string call, Func<Task<IResult>> read)
    {
        if (cluster.Unreachable() is { } down)
        {
            return cluster.Answer(down);
        }

        try
        {
            return await read();
        }
        catch (Exception ex)
        {
            return cluster.Answer(cluster.ToProblem(ex, call));
        }
    }
}
