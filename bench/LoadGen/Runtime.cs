using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// CPU of the server processes by thread kind (/proc/&lt;pid&gt;/task/*/stat, grouped by the runtime's thread names):
/// tells GC from thread-pool work from socket polling from Orleans' own threads.
/// </summary>
internal static class ThreadCpu
{
    /// <summary>CPU seconds so far of every live thread, keyed by pid/tid, with its "role:kind" group.</summary>
    public static Dictionary<string, (string Group, double Seconds)> Snapshot(IEnumerable<ServerProc> procs)
    {
        var threads = new Dictionary<string, (string, double)>();
        foreach (var proc in procs)
        {
            string[] tasks;
            try
            {
                tasks = Directory.GetDirectories($"/proc/{proc.Pid}/task");
            }
            catch (IOException)
            {
                continue;
            }

            foreach (var task in tasks)
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    var open = stat.IndexOf('(');
                    var close = stat.LastIndexOf(')');
                    var name = stat[(open + 1)..close];
                    var fields = stat[(close + 2)..].Split(' ');
                    var seconds = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
                    threads[$"{proc.Pid}/{Path.GetFileName(task)}"] = ($"{proc.Role}:{Kind(name)}", seconds);
                }
                catch (IOException)
                {
                    // The thread exited meanwhile.
                }
            }
        }

        return threads;
    }

    /// <summary>
    /// "edge:threadpool=40%,silo:threadpool=30%,…": shares of the CPU the server threads alive at the end spent since
    /// the first snapshot (threads that retired in between are not counted: their last seconds are unknowable here).
    /// </summary>
    public static string Breakdown(Dictionary<string, (string Group, double Seconds)> before, Dictionary<string, (string Group, double Seconds)> after)
    {
        var groups = new Dictionary<string, double>();
        foreach (var (tid, (group, seconds)) in after)
        {
            var delta = seconds - (before.TryGetValue(tid, out var b) ? b.Seconds : 0);
            groups[group] = groups.GetValueOrDefault(group) + delta;
        }

        var total = groups.Values.Sum();
        return total <= 0 ? "" : string.Join(",", groups.Where(kv => kv.Value > 0).OrderByDescending(kv => kv.Value)
            .Select(kv => $"{kv.Key}={100 * kv.Value / total:F0}%"));
    }

    /// <summary>
    /// Context switches so far (voluntary + involuntary, summed over every live thread's /proc status) per role: a thread
    /// that blocks and is woken again per message costs a switch each way, which on one shared core is CPU too.
    /// </summary>
    public static Dictionary<string, long> Switches(IEnumerable<ServerProc> procs)
    {
        var byRole = new Dictionary<string, long>();
        foreach (var proc in procs)
        {
            string[] tasks;
            try
            {
                tasks = Directory.GetDirectories($"/proc/{proc.Pid}/task");
            }
            catch (IOException)
            {
                continue;
            }

            foreach (var task in tasks)
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            byRole[proc.Role] = byRole.GetValueOrDefault(proc.Role) + long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (IOException)
                {
                    // The thread exited meanwhile.
                }
            }
        }

        return byRole;
    }

    /// <summary>"edge=3.1,silo=1.2": context switches per delivered message by role between two <see cref="Switches"/>.</summary>
    public static string SwitchesPer(Dictionary<string, long> before, Dictionary<string, long> after, long delivered) =>
        delivered <= 0 ? "" : string.Join(",", after.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}={(kv.Value - before.GetValueOrDefault(kv.Key)) / (double)delivered:F2}"));

    private static string Kind(string name) => name switch
    {
        _ when name.StartsWith(".NET Server GC", StringComparison.Ordinal) || name.StartsWith(".NET BGC", StringComparison.Ordinal) || name.StartsWith(".NET GC", StringComparison.Ordinal) => "gc",
        _ when name.StartsWith(".NET TP", StringComparison.Ordinal) => "threadpool",
        _ when name.StartsWith(".NET Sockets", StringComparison.Ordinal) => "sockets",
        _ when name.StartsWith("Orleans", StringComparison.Ordinal) => "orleans-threads",
        _ when name.StartsWith(".NET Tiered", StringComparison.Ordinal) => "jit",
        _ when name.Contains("Timer", StringComparison.Ordinal) => "timers",
        _ => "other",
    };
}

/// <summary>
/// GC activity of server processes over a window, from the runtime's GC events (EventPipe, GC keyword, verbose):
/// bytes allocated (sum of AllocationTick amounts, one event per ~100 KB), collections per generation, and
/// time the runtime was suspended for GC.
/// </summary>
internal sealed class GcMonitor : IDisposable
{
    private readonly List<(EventPipeSession Session, Task Reading)> _sessions = [];
    private long _allocated;
    private readonly long[] _collections = new long[3];
    private double _pauseMs;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _allocatedByRole = new();

    // BENCH_ALLOC_TYPES=1: bytes allocated by type per server role, printed at Stop (where a message's allocations go).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long>? _byType =
        Environment.GetEnvironmentVariable("BENCH_ALLOC_TYPES") == "1" ? new() : null;

    public static GcMonitor Start(IEnumerable<ServerProc> procs)
    {
        var monitor = new GcMonitor();
        foreach (var proc in procs.Where(p => p.Role != "store")) // a store (redis-server) has no .NET runtime
        {
            try
            {
                var session = new DiagnosticsClient(proc.Pid).StartEventPipeSession(
                    [new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, 0x1)], requestRundown: false, circularBufferMB: 64);
                var role = proc.Role;
                var reading = Task.Run(() => monitor.Read(session, role));
                monitor._sessions.Add((session, reading));
            }
            catch (Exception ex) when (ex is ServerNotAvailableException or TimeoutException or IOException or UnsupportedCommandException)
            {
                Console.Error.WriteLine($"GC monitor for pid {proc.Pid} failed: {ex.Message}");
            }
        }

        return monitor;
    }

    /// <summary>Stops every session and returns (bytes allocated, gen0, gen1, gen2 collections, suspended ms).</summary>
    public (long Allocated, long Gen0, long Gen1, long Gen2, double PauseMs) Stop()
    {
        foreach (var (session, _) in _sessions)
        {
            try
            {
                session.Stop();
            }
            catch (Exception ex) when (ex is ServerNotAvailableException or TimeoutException or IOException)
            {
                // The process is gone: what was read so far stands.
            }
        }

        Task.WaitAll([.. _sessions.Select(s => s.Reading)], TimeSpan.FromSeconds(15));
        if (_byType is not null)
        {
            foreach (var role in _byType.GroupBy(kv => kv.Key[..kv.Key.IndexOf('|')]))
            {
                Console.WriteLine($"ALLOC {role.Key}: top types by sampled bytes");
                foreach (var (key, bytes) in role.OrderByDescending(kv => kv.Value).Take(25))
                {
                    Console.WriteLine($"ALLOC {role.Key} {bytes / 1024.0,12:F0} KB  {key[(key.IndexOf('|') + 1)..]}");
                }
            }
        }

        return (Interlocked.Read(ref _allocated), _collections[0], _collections[1], _collections[2], _pauseMs);
    }

    /// <summary>Bytes allocated by the processes of <paramref name="role"/> (edge, silo), read after <see cref="Stop"/>.</summary>
    public long AllocatedBy(string role) => _allocatedByRole.GetValueOrDefault(role);

    public void Dispose()
    {
        foreach (var (session, _) in _sessions)
        {
            session.Dispose();
        }
    }

    private void Read(EventPipeSession session, string role)
    {
        using var source = new EventPipeEventSource(session.EventStream);
        var suspendedAt = double.NaN;
        source.Clr.GCAllocationTick += e =>
        {
            Interlocked.Add(ref _allocated, e.AllocationAmount64);
            _allocatedByRole.AddOrUpdate(role, e.AllocationAmount64, (_, v) => v + e.AllocationAmount64);
            _byType?.AddOrUpdate($"{role}|{e.TypeName}", e.AllocationAmount64, (_, v) => v + e.AllocationAmount64);
        };
        source.Clr.GCStart += e =>
        {
            lock (_collections)
            {
                _collections[Math.Min(2, e.Depth)]++;
            }
        };
        source.Clr.GCSuspendEEStart += e => suspendedAt = e.TimeStampRelativeMSec;
        source.Clr.GCRestartEEStop += e =>
        {
            if (!double.IsNaN(suspendedAt))
            {
                lock (_collections)
                {
                    _pauseMs += e.TimeStampRelativeMSec - suspendedAt;
                }

                suspendedAt = double.NaN;
            }
        };
        source.Process();
    }
}
