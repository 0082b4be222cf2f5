namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// <c>idle</c>: N authenticated idle connections spread over the edges. Connect rate; server memory per connection =
/// RSS delta / N after a forced full GC in every server process (edges and silos reported apart).
/// </summary>
internal static class IdleScenario
{
    public static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var n = s.Int("connections", 10_000);
        var procs = common.Procs;
        var before = ServerProcs.SettledRss(procs);
        var selfBefore = ServerProcs.RssBytes(Environment.ProcessId);
        var conns = Enumerable.Range(0, n).Select(i => (new Conn($"{common.Run}-i{i}", static (_, _) => { }), common.Edges[i % common.Edges.Length])).ToList();
        // Connect cost: server CPU (every edge and silo, or the one Kestrel process) over the connect phase only, per
        // accepted connection: TCP accept, upgrade, JWT check, attach, welcome. Read before the settle and the
        // forced GC so neither is counted.
        // --gc-events=true (bench/run: IDLE_ALLOC=1) also counts the bytes the servers allocate over the connect phase,
        // per role; off by default so the connect CPU figure carries no EventPipe session.
        using var gc = s.Str("gc-events", "false") == "true" ? GcMonitor.Start(procs) : null;
        var cpu0 = ServerProcs.CpuSeconds(procs);
        var stats = await common.ConnectAllAsync(conns, s.Int("parallel", 64), cancellationToken);
        var connectCpu = ServerProcs.CpuSeconds(procs) - cpu0;
        var gcStats = gc?.Stop();
        await Task.Delay(TimeSpan.FromSeconds(s.Int("settle", 5)), cancellationToken);
        var after = ServerProcs.SettledRss(procs);
        var open = conns.Count(c => c.Item1.IsOpen);
        var selfAfter = ServerProcs.RssBytes(Environment.ProcessId);

        long Delta(string role) => procs.Where(p => p.Role == role).Sum(p => after.Rss[p.Pid] - before.Rss[p.Pid]);
        long HeapDelta(string role) => after.HeapOf(procs.Where(p => p.Role == role)) - before.HeapOf(procs.Where(p => p.Role == role));
        double PerConn(long bytes) => stats.Ok == 0 ? double.NaN : bytes / 1024.0 / stats.Ok;
        new Report("idle", s)
            .Add("connections_requested", n)
            .Add("connections_ok", stats.Ok)
            .Add("connections_failed", stats.Failed)
            .Add("still_open_after_settle", open)
            .Add("connect_seconds", stats.Seconds)
            .Add("connects_per_second", stats.Ok / stats.Seconds)
            .Add("edges", common.Edges.Length)
            .Add("connect_server_cpu_s", connectCpu)
            .Add("connect_cpu_us_per_connection", stats.Ok == 0 ? double.NaN : connectCpu * 1e6 / stats.Ok)
            .Add("connect_alloc_kb_per_connection", gcStats is { } g ? PerConn(g.Allocated) : null)
            .Add("connect_edge_alloc_kb_per_connection", gc is not null ? PerConn(gc.AllocatedBy("edge")) : null)
            .Add("connect_silo_alloc_kb_per_connection", gc is not null && procs.Any(p => p.Role == "silo") ? PerConn(gc.AllocatedBy("silo")) : null)
            .Add("gc_forced", before.GcForced && after.GcForced)
            .Add("edge_rss_before_mb", procs.Where(p => p.Role == "edge").Sum(p => before.Rss[p.Pid]) / 1048576.0)
            .Add("edge_rss_after_mb", procs.Where(p => p.Role == "edge").Sum(p => after.Rss[p.Pid]) / 1048576.0)
            .Add("edge_kb_per_connection", PerConn(Delta("edge")))
            .Add("silo_rss_before_mb", procs.Where(p => p.Role == "silo").Sum(p => before.Rss[p.Pid]) / 1048576.0)
            .Add("silo_rss_after_mb", procs.Where(p => p.Role == "silo").Sum(p => after.Rss[p.Pid]) / 1048576.0)
            .Add("silo_kb_per_client_grain", procs.Any(p => p.Role == "silo") ? PerConn(Delta("silo")) : null)
            .Add("edge_managed_heap_after_mb", after.HeapOf(procs.Where(p => p.Role == "edge")) / 1048576.0)
            .Add("edge_managed_kb_per_connection", PerConn(HeapDelta("edge")))
            .Add("silo_managed_kb_per_client_grain", procs.Any(p => p.Role == "silo") ? PerConn(HeapDelta("silo")) : null)
            .Add("server_kb_per_connection_total", PerConn(Delta("edge") + Delta("silo")))
            .Add("loadgen_kb_per_connection", PerConn(selfAfter - selfBefore))
            .Add("failures", stats.FailureSummary())
            .Emit();

        // bench/heap: keep the connections open while a heap dump of the servers is taken.
        if (s.Int("hold-s", 0) is > 0 and var hold)
        {
            Console.Error.WriteLine($"HOLDING {open} connections for {hold} s");
            await Task.Delay(TimeSpan.FromSeconds(hold), cancellationToken);
        }

        foreach (var (conn, _) in conns)
        {
            conn.Abort();
        }

        return stats.Ok > 0 ? 0 : 1;
    }
}
