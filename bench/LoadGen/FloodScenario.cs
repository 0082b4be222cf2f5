using System.Diagnostics;
using System.Text;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// <c>flood</c>: P well-behaved pairs on ONE edge exchange direct messages at a fixed total rate R; the
/// step is measured once quietly, then again while A abusive clients on the same edge send <c>send</c> frames as fast
/// as their socket takes them and reconnect at once whenever the edge closes them. Reports both p99s and their ratio
/// (target ≤ 2), plus what happened to the abusers (frames, <c>err rate_limited</c>, <c>bye policy</c>, refused
/// handshakes). The well-behaved clients must lose nothing either way.
/// </summary>
internal static class FloodScenario
{
    public static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var pairs = s.Int("pairs", 100);
        var rate = s.Double("rate", 1000);
        var abusers = s.Int("abusers", 1);
        var warmup = s.Double("warmup", 2);
        var duration = s.Double("duration", 10);
        var settle = s.Double("settle", 10);
        var edge = common.Edges[0];

        var (state, connected) = await DirectScenario.ConnectPairsAsync(common, pairs, _ => (edge, edge), cancellationToken);
        if (connected.Failed > 0)
        {
            Console.Error.WriteLine($"flood: {connected.Failed} connections failed: {connected.FailureSummary()}");
            return 1;
        }

        // An unmeasured step first: the quiet figure must not carry JIT and first-call costs the abused one would not.
        await DirectScenario.RunStepAsync(common, state, rate, warmup, Math.Min(duration, 3), settle, cancellationToken, "flood-warmup");
        var quiet = await DirectScenario.RunStepAsync(common, state, rate, warmup, duration, settle, cancellationToken, "flood-quiet");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var counters = new AbuseCounters();
        var flooding = Enumerable.Range(0, abusers)
            .Select(i => AbuseAsync(common, edge, $"{common.Run}-abuser{i}", $"{common.Run}-sink", counters, stop.Token))
            .ToArray();
        var started = Stopwatch.GetTimestamp();
        var flooded = await DirectScenario.RunStepAsync(common, state, rate, warmup, duration, settle, cancellationToken, "flood-abused");
        var abuseSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(flooding);

        new Report("flood", s)
            .Add("pairs", pairs)
            .Add("rate", rate)
            .Add("abusers", abusers)
            .Add("quiet_p50_ms", quiet.P50)
            .Add("quiet_p99_ms", quiet.P99)
            .Add("abused_p50_ms", flooded.P50)
            .Add("abused_p99_ms", flooded.P99)
            .Add("p99_ratio", flooded.P99 / quiet.P99)
            .Add("quiet_cpu_us_per_delivered", quiet.CpuUsPerDelivered)
            .Add("abused_cpu_us_per_delivered", flooded.CpuUsPerDelivered)
            .Add("well_behaved_lost", quiet.Lost + flooded.Lost)
            .Add("well_behaved_errors", quiet.Errors + flooded.Errors)
            .Add("abuse_seconds", abuseSeconds)
            .Add("abuser_frames_sent", counters.Sent)
            .Add("abuser_frames_per_second", counters.Sent / abuseSeconds)
            .Add("abuser_ok", counters.Ok)
            .Add("abuser_rate_limited", counters.RateLimited)
            .Add("abuser_closed_by_server", counters.Closed)
            .Add("abuser_bye_codes", counters.ByeCodes())
            .Add("abuser_connects_ok", counters.Connects)
            .Add("abuser_connects_refused", counters.Refused)
            .Add("target_p99_ratio", 2)
            .Emit();
        foreach (var peer in state.Peers)
        {
            peer.Conn.Abort();
        }

        return 0;
    }

    /// <summary>One abusive client: connect, send as fast as the socket takes it, and when closed reconnect at once.</summary>
    private static async Task AbuseAsync(Common common, Uri edge, string clientId, string sink, AbuseCounters counters, CancellationToken stop)
    {
        var junk = new string('x', 64);
        var frame = Encoding.UTF8.GetBytes($$$"""{"t":"send","to":"{{{sink}}}","data":{"junk":"{{{junk}}}"}}""");
        var token = common.Tokens.For(clientId);
        while (!stop.IsCancellationRequested)
        {
            var conn = new Conn(clientId, counters.OnFrame);
            ConnectResult result;
            try
            {
                result = await conn.ConnectAsync(edge, token, null, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!result.Ok)
            {
                Interlocked.Increment(ref counters.Refused);
                continue; // an abuser does not back off; the edge's handshake limit and per-client cap answer 503
            }

            Interlocked.Increment(ref counters.Connects);
            try
            {
                while (!stop.IsCancellationRequested && conn.IsOpen)
                {
                    await conn.SendAsync(frame);
                    Interlocked.Increment(ref counters.Sent);
                }
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or InvalidOperationException or IOException)
            {
                // Closed under our feet: reconnect.
            }

            if (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref counters.Closed);
            }

            conn.Abort();
        }
    }

    private sealed class AbuseCounters
    {
        public long Sent;
        public long Ok;
        public long RateLimited;
        public long Closed;
        public long Connects;
        public long Refused;
        private readonly Dictionary<string, int> _byes = [];

        public void OnFrame(Conn conn, ServerFrame frame)
        {
            switch (frame.Type)
            {
                case FrameType.Ok:
                    Interlocked.Increment(ref Ok);
                    break;
                case FrameType.Err when frame.Code == "rate_limited":
                    Interlocked.Increment(ref RateLimited);
                    break;
                case FrameType.Bye:
                    lock (_byes)
                    {
                        _byes[frame.Code ?? "?"] = _byes.GetValueOrDefault(frame.Code ?? "?") + 1;
                    }

                    break;
                default:
                    break;
            }
        }

        public string ByeCodes()
        {
            lock (_byes)
            {
                return string.Join(",", _byes.Select(kv => $"{kv.Key}={kv.Value}"));
            }
        }
    }
}
