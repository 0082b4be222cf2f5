using System.Diagnostics;
using System.Text;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// <c>presence</c>: M members (one connection each, spread over the edges) subscribe to one channel at a fixed rate
/// while a watcher on the first edge follows it with <c>"presence":true</c>. Reports server CPU per join over the join
/// window, join → seen latency (the member's <c>sub</c> sent → the watcher's <c>join</c> frame for it: includes the edges'
/// report interval), and the managed memory per member after a forced GC (silos: the channel's member list; edges:
/// the subscription and the reporter's counts), measured against the same connections before they subscribed.
/// </summary>
internal static class PresenceScenario
{
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    public static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var members = s.Int("members", 10_000);
        var rate = s.Double("join-rate", 1_000);
        var channel = $"bench:presence:{common.Run}";
        var sentAt = new long[members];
        var seen = new bool[members];
        long joinsSeen = 0, acked = 0, errors = 0;
        string? refusal = null;
        var latencies = new Latencies(members + 1_024);
        var prefix = $"{common.Run}-m";
        var watcherReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        void OnWatcher(Conn conn, ServerFrame f)
        {
            if (f.Type == FrameType.Ok)
            {
                watcherReady.TrySetResult();
            }
            else if (f.Type == FrameType.Err)
            {
                refusal ??= $"{f.Code}: {f.Message}";
                watcherReady.TrySetResult();
            }
            else if (f.Type == FrameType.Join && f.Client is { } client && client.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(client.AsSpan(prefix.Length), out var i) && i < members && !seen[i])
            {
                seen[i] = true;
                latencies.Add((long)((Stopwatch.GetTimestamp() - Volatile.Read(ref sentAt[i])) * NanosPerTick));
                Interlocked.Increment(ref joinsSeen);
            }
        }

        void OnMember(Conn conn, ServerFrame f)
        {
            if (f.Type == FrameType.Ok)
            {
                Interlocked.Increment(ref acked);
            }
            else if (f.Type == FrameType.Err)
            {
                Interlocked.Increment(ref errors);
                refusal ??= $"{f.Code}: {f.Message}";
            }
        }

        var watcher = new Conn($"{common.Run}-watcher", OnWatcher);
        var conns = Enumerable.Range(0, members).Select(i => new Conn($"{prefix}{i}", OnMember) { Index = i }).ToArray();
        var stats = await common.ConnectAllAsync(
            [(watcher, common.Edges[0]), .. conns.Select((c, i) => (c, common.Edges[i % common.Edges.Length]))], s.Int("parallel", 64), cancellationToken);
        if (stats.Failed > 0)
        {
            Console.Error.WriteLine($"presence: {stats.Failed} connections failed: {stats.FailureSummary()}");
            return 1;
        }

        await watcher.SendAsync(Encoding.UTF8.GetBytes($$"""{"t":"sub","id":"w","ch":"{{channel}}","presence":true}"""));
        await watcherReady.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (refusal is not null)
        {
            Console.WriteLine($"presence: not available: server answers err ({refusal})");
            new Report("presence", s).Add("members", members).Add("skipped", $"not available: {refusal}").Emit();
            Abort(watcher, conns);
            return 0;
        }

        var before = ServerProcs.SettledRss(common.Procs);
        var cpu0 = ServerProcs.CpuSeconds(common.Procs);
        var start = Stopwatch.GetTimestamp();
        var issued = 0;
        var sub = new byte[members][];
        for (var i = 0; i < members; i++)
        {
            sub[i] = Encoding.UTF8.GetBytes($$"""{"t":"sub","id":"s","ch":"{{channel}}"}""");
        }

        while (issued < members)
        {
            var due = Math.Min(members, (int)(rate * Stopwatch.GetElapsedTime(start).TotalSeconds) + 1);
            for (; issued < due; issued++)
            {
                Volatile.Write(ref sentAt[issued], Stopwatch.GetTimestamp());
                await conns[issued].SendAsync(sub[issued]);
            }

            await Task.Delay(1, cancellationToken);
        }

        var joinWindow = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var settleStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(settleStart).TotalSeconds < 60 && Interlocked.Read(ref joinsSeen) < members)
        {
            await Task.Delay(20, cancellationToken);
        }

        // CPU from the first join until the watcher saw the last one (or gave up): all the work the joins caused.
        var cpu = ServerProcs.CpuSeconds(common.Procs) - cpu0;
        var after = ServerProcs.SettledRss(common.Procs);
        long Delta(string role) => after.HeapOf(common.Procs.Where(p => p.Role == role)) - before.HeapOf(common.Procs.Where(p => p.Role == role));
        var lat = latencies.Summary();
        new Report("presence", s)
            .Add("members", members)
            .Add("edges", common.Edges.Length)
            .Add("join_rate", rate)
            .Add("join_window_s", joinWindow)
            .Add("acked", acked)
            .Add("errors", errors)
            .Add("joins_seen", joinsSeen)
            .Add("seen_p50_ms", lat.P50)
            .Add("seen_p90_ms", lat.P90)
            .Add("seen_p99_ms", lat.P99)
            .Add("seen_max_ms", lat.Max)
            .Add("settle_s", Stopwatch.GetElapsedTime(settleStart).TotalSeconds)
            .Add("server_cpu_s", cpu)
            .Add("cpu_us_per_join", joinsSeen == 0 ? double.NaN : cpu * 1e6 / joinsSeen)
            .Add("gc_forced", before.GcForced && after.GcForced)
            .Add("silo_managed_bytes_per_member", common.SiloProcs.Any() ? (double)Delta("silo") / members : null)
            .Add("edge_managed_bytes_per_member", (double)Delta("edge") / members)
            .Emit();
        Abort(watcher, conns);
        return 0;
    }

    private static void Abort(Conn watcher, Conn[] conns)
    {
        watcher.Abort();
        foreach (var c in conns)
        {
            c.Abort();
        }
    }
}
