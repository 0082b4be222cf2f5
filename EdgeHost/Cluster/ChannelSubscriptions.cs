using System.Collections.Concurrent;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// This edge's channel subscriptions, and their one owner: the edge subscribes to a channel grain on its first local
/// subscriber and unsubscribes after its last, so a channel costs its grain one push per edge, not per socket. "Session
/// S follows channel C" changes only here: the channel's subscriber list and the session's cursor (its index in
/// <see cref="SessionStreams"/>) are added and removed together.
/// </summary>
/// <remarks>
/// Every grain call here is bounded once by <see cref="GrainCallPolicy"/> (<see cref="EdgeOptions.CallTimeout"/>): it runs under the channel's lock (or in
/// the lease loop), and a call whose gateway silo stopped mid-call is otherwise answered only after Orleans' 30 s.
/// </remarks>
internal sealed partial class ChannelSubscriptions(
    GrainRefs grains, GrainCallPolicy calls, LocalEdge edge, MemberReporter members, TimeProvider time, ILogger<ChannelSubscriptions> logger)
{
    private readonly ConcurrentDictionary<string, LocalChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>Local subscribers of <paramref name="channel"/> (a snapshot).</summary>
    public SessionStreams[] Get(string channel) => _channels.TryGetValue(channel, out var local) ? local.Subscribers : [];

    /// <summary>Local subscribers of <paramref name="channel"/> that asked for its joins and leaves (a snapshot).</summary>
    public SessionStreams[] Watchers(string channel) => _channels.TryGetValue(channel, out var local) ? local.Watchers : [];

    /// <summary>
    /// Makes <paramref name="session"/> follow <paramref name="channel"/>: its cursor first (publications racing the
    /// reply are held), then the edge's subscription (subscribing the edge if it is the first), then the <c>sub</c>
    /// reply with id <paramref name="id"/>, the replay after <paramref name="since"/>, and live publications.
    /// </summary>
    /// <param name="presence">The session also gets the channel's <c>join</c>/<c>leave</c> frames.</param>
    /// <returns>Whether the session follows the channel now; a failed grain call is thrown, with nothing left behind.</returns>
    public async Task<ChannelAdd> SubscribeAsync(SessionStreams session, string channel, long? since, string? id, int maxChannels, bool presence = false)
    {
        var added = session.TryAddChannel(channel, maxChannels);
        if (added != ChannelAdd.Added)
        {
            return added;
        }

        StreamReplay result;
        try
        {
            result = await JoinAsync(session, channel, since, presence);
        }
        catch
        {
            session.RemoveChannel(channel);
            throw;
        }

        session.StartChannel(channel, id, result);
        members.Joined(channel, session.ClientId, presence);
        return ChannelAdd.Added;
    }

    /// <summary>Stops <paramref name="session"/> following <paramref name="channel"/> (unsubscribing the edge after its last subscriber).</summary>
    public async Task UnsubscribeAsync(SessionStreams session, string channel)
    {
        if (session.RemoveChannel(channel))
        {
            var watching = _channels.TryGetValue(channel, out var local) && Array.IndexOf(local.Watchers, session) >= 0;
            members.Left(channel, session.ClientId, watching);
            await LeaveAsync(session, channel);
        }
    }

    /// <summary>Leaves every channel of a session that ended.</summary>
    public async Task LeaveAllAsync(SessionStreams session)
    {
        foreach (var channel in session.Channels())
        {
            await UnsubscribeAsync(session, channel);
        }
    }

    /// <summary>Adds <paramref name="session"/> to the channel's subscribers; returns the channel's offset and the replay after <paramref name="since"/>.</summary>
    private async Task<StreamReplay> JoinAsync(SessionStreams session, string channel, long? since, bool presence)
    {
        while (true)
        {
            var local = _channels.GetOrAdd(channel, static _ => new LocalChannel());
            await local.Lock.WaitAsync();
            try
            {
                if (local.Removed)
                {
                    continue; // lost a race with the last unsubscribe: take the fresh entry
                }

                // Joined before the grain call: publications racing the reply are held by the session's cursor.
                local.Subscribers = [.. local.Subscribers, session];
                if (presence)
                {
                    local.Watchers = [.. local.Watchers, session];
                }

                try
                {
                    var grain = grains.Channel(channel);
                    if (local.EdgeSubscribed)
                    {
                        return await calls.OnceAsync(grain.ReadSinceAsync(since));
                    }

                    // Set first: a call that timed out may still subscribe the edge, and leaving then unsubscribes it.
                    local.EdgeSubscribed = true;
                    var result = await calls.OnceAsync(grain.SubscribeEdgeAsync(edge.EdgeId, edge.Reference, since));
                    local.RegisteredAt = time.GetUtcNow();

                    // A fresh subscription: the grain dropped what this edge reported before its last unsubscribe.
                    members.ReportAllAgain(channel);
                    return result;
                }
                catch
                {
                    await LeaveAsync(local, channel, session);
                    throw;
                }
            }
            finally
            {
                local.Lock.Release();
            }
        }
    }

    private async Task LeaveAsync(SessionStreams session, string channel)
    {
        if (!_channels.TryGetValue(channel, out var local))
        {
            return;
        }

        await local.Lock.WaitAsync();
        try
        {
            await LeaveAsync(local, channel, session);
        }
        finally
        {
            local.Lock.Release();
        }
    }

    /// <summary>
    /// Re-registers the edge with channel grains last registered before <paramref name="olderThan"/>: a channel
    /// grain re-activated after a silo crash has forgotten its edges.
    /// </summary>
    public async Task RefreshAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - olderThan;
        foreach (var (channel, local) in _channels)
        {
            if (!local.EdgeSubscribed || local.RegisteredAt > cutoff || cancellationToken.IsCancellationRequested)
            {
                continue;
            }

            try
            {
                await calls.OnceAsync(grains.Channel(channel).SubscribeEdgeAsync(edge.EdgeId, edge.Reference, null), cancellationToken);
                local.RegisteredAt = time.GetUtcNow();
                members.ReportAllAgain(channel);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RefreshFailed(logger, ex, channel);
            }
        }
    }

    /// <summary>Channels this edge is subscribed to at their grains (a snapshot).</summary>
    public string[] Subscribed() => _channels.Where(c => c.Value.EdgeSubscribed).Select(c => c.Key).ToArray();

    /// <summary>
    /// Re-subscribes the edge to <paramref name="channel"/> (its grain may have come back from a silo crash without its
    /// edges) with <c>since</c> = the lowest offset a local subscriber has seen: each subscriber gets what it missed, in
    /// order. If the channel is now below the highest offset this edge has seen (its history was lost), or no longer
    /// reaches back, its local subscribers are told <c>bye draining</c> (1012): they re-subscribe with <c>since</c>
    /// and learn <c>recovered:false</c>.
    /// </summary>
    /// <returns>Null when the grain could not be reached (retry later); else whether subscribers were told to reconnect.</returns>
    public async Task<bool?> ResyncAsync(string channel, TimeSpan timeout, Func<int> reconnectMs)
    {
        if (!_channels.TryGetValue(channel, out var local))
        {
            return false;
        }

        await local.Lock.WaitAsync();
        try
        {
            if (local.Removed || !local.EdgeSubscribed)
            {
                return false;
            }

            long? lowest = null;
            long highest = 0;
            foreach (var session in local.Subscribers)
            {
                if (session.TryGetChannelLast(channel, out var last))
                {
                    lowest = Math.Min(lowest ?? last, last);
                    highest = Math.Max(highest, last);
                }
            }

            var result = await calls.OnceAsync(grains.Channel(channel).SubscribeEdgeAsync(edge.EdgeId, edge.Reference, lowest), timeout);
            local.RegisteredAt = time.GetUtcNow();
            members.ReportAllAgain(channel);
            var lost = result.Seq < highest || !result.Recovered;
            foreach (var session in local.Subscribers)
            {
                session.ResyncChannel(channel, result, lost, reconnectMs());
            }

            return lost;
        }
        catch (Exception ex)
        {
            // Not our cancellation (the call has no token): a timeout or a rejected call, retried.
            Log.ResyncFailed(logger, ex, channel);
            return null;
        }
        finally
        {
            local.Lock.Release();
        }
    }

    /// <summary>Under <see cref="LocalChannel.Lock"/>.</summary>
    private async Task LeaveAsync(LocalChannel local, string channel, SessionStreams session)
    {
        local.Subscribers = local.Subscribers.Where(s => s != session).ToArray();
        if (Array.IndexOf(local.Watchers, session) >= 0)
        {
            local.Watchers = local.Watchers.Where(s => s != session).ToArray();
        }

        if (local.Subscribers.Length > 0)
        {
            return;
        }

        local.Removed = true;
        _channels.TryRemove(new KeyValuePair<string, LocalChannel>(channel, local));
        if (local.EdgeSubscribed)
        {
            local.EdgeSubscribed = false;
            try
            {
                await calls.OnceAsync(grains.Channel(channel).UnsubscribeEdgeAsync(edge.EdgeId));
            }
            catch (Exception ex)
            {
                // The channel drops this edge when its lease lapses, or simply finds no local subscriber to push to.
                Log.UnsubscribeFailed(logger, ex, channel);
            }
        }
    }

    private sealed class LocalChannel
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        public volatile SessionStreams[] Subscribers = [];

        public volatile SessionStreams[] Watchers = [];

        public bool EdgeSubscribed { get; set; }

        public bool Removed { get; set; }

        public DateTimeOffset RegisteredAt { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(500, LogLevel.Debug, "Unsubscribing from channel {Channel} failed", EventName = "ChannelUnsubscribeFailed")]
        public static partial void UnsubscribeFailed(ILogger logger, Exception exception, string channel);

        [LoggerMessage(501, LogLevel.Warning, "Re-registering with channel {Channel} failed", EventName = "ChannelRefreshFailed")]
        public static partial void RefreshFailed(ILogger logger, Exception exception, string channel);

        [LoggerMessage(502, LogLevel.Debug, "Re-subscribing to channel {Channel} after a lost silo failed; retrying", EventName = "ChannelResyncFailed")]
        public static partial void ResyncFailed(ILogger logger, Exception exception, string channel);
    }
}
