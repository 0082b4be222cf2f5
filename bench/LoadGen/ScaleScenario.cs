using System.Diagnostics;
using System.Globalization;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// <c>scale</c>: the largest number of concurrent connections the box holds. This process coordinates W worker
/// processes (<c>scale-worker</c>, each under the per-process open-files limit, each rotating its own loopback source
/// addresses); it stops at the target, when connecting stalls, at the time budget, or when the machine runs low on
/// memory, then forces a GC in every server process and reports memory per connection.
/// </summary>
internal static class ScaleScenario
{
    public static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var target = s.Int("target-connections", 100_000);
        var workers = s.Int("workers", Math.Max(1, (int)Math.Ceiling(target / 18_000.0)));
        var budget = TimeSpan.FromSeconds(s.Int("budget-s", 240));
        var minFreeMb = s.Int("min-free-mb", 3000);
        var stallSeconds = s.Int("stall-s", 20);
        var procs = common.Procs;
        var before = ServerProcs.SettledRss(procs);
        var freeBefore = MemAvailableMb();

        var state = new WorkerState[workers];
        var started = Stopwatch.GetTimestamp();
        for (var w = 0; w < workers; w++)
        {
            var count = target / workers + (w < target % workers ? 1 : 0);
            var info = new ProcessStartInfo(Environment.ProcessPath!)
            {
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            {
                info.ArgumentList.Add(typeof(ScaleScenario).Assembly.Location);
            }

            foreach (var arg in new[]
            {
                "scale-worker", $"--count={count}", $"--edges={string.Join(',', common.Edges.Select(e => e.ToString()))}",
                $"--run={common.Run}-w{w}", $"--sources={s.Int("sources", 250)}", $"--source-offset={w * 41}",
                $"--issuer={s.Str("issuer", "bench")}", $"--audience={s.Str("audience", "ogw")}", $"--max-seconds={(int)budget.TotalSeconds + 120}",
                $"--parallel={s.Int("parallel", 32)}",
            })
            {
                info.ArgumentList.Add(arg);
            }

            if (s.OptionalStr("secret") is { } secret)
            {
                info.Environment["BENCH_SECRET"] = secret;
            }

            var process = Process.Start(info)!;
            state[w] = new WorkerState(process);
            _ = state[w].ReadAsync();
        }

        var best = 0;
        var bestAt = Stopwatch.GetTimestamp();
        var stop = "target reached";
        while (true)
        {
            await Task.Delay(1000, cancellationToken);
            var open = state.Sum(w => w.Open);
            var failed = state.Sum(w => w.Failed);
            var freeMb = MemAvailableMb();
            Console.Error.WriteLine($"scale: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0}s open={open} failed={failed} mem_available_mb={freeMb}");
            if (open > best)
            {
                best = open;
                bestAt = Stopwatch.GetTimestamp();
            }

            if (state.All(w => w.Done))
            {
                stop = open >= target ? "target reached" : "every worker finished (see failures)";
                break;
            }

            if (freeMb < minFreeMb)
            {
                stop = $"machine memory available fell below {minFreeMb} MB";
                break;
            }

            if (Stopwatch.GetElapsedTime(bestAt).TotalSeconds > stallSeconds)
            {
                stop = $"no progress for {stallSeconds} s";
                break;
            }

            if (Stopwatch.GetElapsedTime(started) > budget)
            {
                stop = $"time budget of {budget.TotalSeconds} s";
                break;
            }
        }

        var connectSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        foreach (var w in state)
        {
            w.Process.StandardInput.WriteLine("pause"); // stop connecting, hold what is open
        }

        await Task.Delay(TimeSpan.FromSeconds(s.Int("settle", 5)), cancellationToken);
        var after = ServerProcs.SettledRss(procs);
        await Task.Delay(1500, cancellationToken); // workers report their open count every second
        var held = state.Sum(w => w.Open);
        var loadgenRss = state.Sum(w => SafeRss(w.Process.Id));
        foreach (var w in state)
        {
            w.Process.StandardInput.WriteLine("stop");
        }

        long Delta(string role) => procs.Where(p => p.Role == role).Sum(p => after.Rss[p.Pid] - before.Rss[p.Pid]);
        long HeapDelta(string role) => after.HeapOf(procs.Where(p => p.Role == role)) - before.HeapOf(procs.Where(p => p.Role == role));
        double PerConn(long bytes) => held == 0 ? double.NaN : bytes / 1024.0 / held;
        new Report("scale", s)
            .Add("target_connections", target)
            .Add("connections_held", held)
            .Add("connections_failed", state.Sum(w => w.Failed))
            .Add("stopped_because", stop)
            .Add("connect_seconds", connectSeconds)
            .Add("connects_per_second", best / connectSeconds)
            .Add("edges", common.Edges.Length)
            .Add("loadgen_processes", workers)
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
            .Add("loadgen_rss_mb", loadgenRss / 1048576.0)
            .Add("mem_available_mb_before", freeBefore)
            .Add("mem_available_mb_after", MemAvailableMb())
            .Add("failures", string.Join(" | ", state.Select(w => w.LastFailure).Where(f => f is not null).Distinct().Take(3)))
            .Emit();
        foreach (var w in state)
        {
            if (!w.Process.WaitForExit(10_000))
            {
                w.Process.Kill();
            }
        }

        return 0;
    }

    /// <summary>One worker: connects its share, prints "progress open failed" every second, holds until told "stop".</summary>
    public static async Task<int> WorkerAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var count = s.Int("count", 10_000);
        var conns = Enumerable.Range(0, count).Select(i => new Conn($"{common.Run}-c{i}", static (_, _) => { })).ToArray();
        using var pause = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(pause.Token, cancellationToken);
        var stopped = new TaskCompletionSource();
        _ = Task.Run(() =>
        {
            while (Console.ReadLine() is { } line)
            {
                if (line == "pause")
                {
                    pause.Cancel();
                }
                else if (line == "stop")
                {
                    break;
                }
            }

            stopped.TrySetResult();
        });

        var failed = 0;
        var consecutiveFailures = 0;
        string? lastFailure = null;
        var reporting = Task.Run(async () =>
        {
            while (!stopped.Task.IsCompleted)
            {
                Console.WriteLine($"progress {conns.Count(c => c.IsOpen)} {failed} {lastFailure}");
                await Task.Delay(1000);
            }
        });
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = s.Int("parallel", 32), CancellationToken = linked.Token }, async (i, ct) =>
            {
                if (Volatile.Read(ref consecutiveFailures) > 200)
                {
                    return;
                }

                var result = await conns[i].ConnectWithRetryAsync(common.Edges[i % common.Edges.Length], common.Tokens.For(conns[i].ClientId), null, 100, ct);
                if (result.Ok)
                {
                    Volatile.Write(ref consecutiveFailures, 0);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.Increment(ref consecutiveFailures);
                    lastFailure = $"{result.Status}: {result.Error}";
                }
            });
        }
        catch (OperationCanceledException)
        {
            // Told to pause (the coordinator measures now) or out of time.
        }

        Console.WriteLine($"done {conns.Count(c => c.IsOpen)} {failed} {lastFailure}");
        await Task.WhenAny(stopped.Task, Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default));
        stopped.TrySetResult();
        await reporting;
        return 0;
    }

    private static long MemAvailableMb()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        return long.Parse(line[13..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }

    private static long SafeRss(int pid)
    {
        try
        {
            return ServerProcs.RssBytes(pid);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private sealed class WorkerState(Process process)
    {
        public Process Process { get; } = process;

        public int Open { get; private set; }

        public int Failed { get; private set; }

        public bool Done { get; private set; }

        public string? LastFailure { get; private set; }

        public async Task ReadAsync()
        {
            while (await Process.StandardOutput.ReadLineAsync() is { } line)
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[0] is "progress" or "done")
                {
                    Open = int.Parse(parts[1], CultureInfo.InvariantCulture);
                    Failed = int.Parse(parts[2], CultureInfo.InvariantCulture);
                    LastFailure = parts.Length > 3 && parts[3].Length > 0 ? parts[3] : LastFailure;
                    Done |= parts[0] == "done";
                }
            }

            Done = true;
        }
    }
}
