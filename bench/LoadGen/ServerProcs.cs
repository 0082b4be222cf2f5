using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>A measured server process: its role (edge, silo, kestrel) and pid.</summary>
internal readonly record struct ServerProc(string Role, int Pid);

/// <summary>Reads server processes from /proc and forces a full GC in them over EventPipe (as dotnet-gcdump does).</summary>
internal static class ServerProcs
{
    private const long GcHeapCollectKeyword = 0x800000;
    private const long GcKeyword = 0x1;
    private const double ClockTicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>
    /// <c>--edge-pids=1,2 --silo-pids=3,4 --store-pids=5</c> (the baseline passes its pid as an edge; a store is the
    /// mailbox Redis of the durable run, whose CPU is part of the gateway's cost).
    /// </summary>
    public static List<ServerProc> From(Settings s) =>
    [
        .. s.Ints("edge-pids").Select(p => new ServerProc("edge", p)),
        .. s.Ints("silo-pids").Select(p => new ServerProc("silo", p)),
        .. s.Ints("store-pids").Select(p => new ServerProc("store", p)),
    ];

    /// <summary>Resident set size in bytes (VmRSS of /proc/&lt;pid&gt;/status).</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>utime + stime of the process, seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15 (1-based).
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicksPerSecond;
    }

    public static double CpuSeconds(IEnumerable<ServerProc> procs) => procs.Sum(p => CpuSeconds(p.Pid));

    /// <summary>Machine-wide (busy, total) jiffies from /proc/stat, to tell whether the box itself was saturated.</summary>
    public static (long Busy, long Total, long Steal) MachineJiffies()
    {
        var parts = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]
            .Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var idle = parts[3] + parts[4];
        var total = parts[..8].Sum();
        return (total - idle, total, parts[7]);
    }

    /// <summary>
    /// Opens an EventPipe session with the runtime provider's GCHeapCollect keyword, which makes the target run a
    /// blocking full (induced) GC, and reads that GC's GCHeapStats event: the managed heap size after it (bytes,
    /// generations 0–2, LOH and POH). Null if the process could not be reached or sent no such event.
    /// </summary>
    public static long? ForceGc(int pid)
    {
        try
        {
            var client = new DiagnosticsClient(pid);
            var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcHeapCollectKeyword | GcKeyword);
            using var session = client.StartEventPipeSession([provider], requestRundown: false, circularBufferMB: 16);
            long? heap = null;
            var reading = Task.Run(() =>
            {
                using var source = new EventPipeEventSource(session.EventStream);
                source.Clr.GCHeapStats += e => heap = e.GenerationSize0 + e.GenerationSize1 + e.GenerationSize2 + e.GenerationSize3 + e.GenerationSize4;
                source.Process();
            });
            Thread.Sleep(2000);
            session.Stop();
            reading.Wait(TimeSpan.FromSeconds(10));
            return heap;
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or TimeoutException or IOException or UnsupportedCommandException or AggregateException)
        {
            Console.Error.WriteLine($"force GC in pid {pid} failed: {ex.GetBaseException().Message}");
            return null;
        }
    }

    /// <summary>Forces a GC in every process (in parallel), then returns each one's RSS.</summary>
    public static Settled SettledRss(IReadOnlyList<ServerProc> procs)
    {
        var heaps = procs.AsParallel().Select(p => (p.Pid, Heap: ForceGc(p.Pid))).ToDictionary(x => x.Pid, x => x.Heap);
        Thread.Sleep(500);
        return new Settled(procs.ToDictionary(p => p.Pid, p => RssBytes(p.Pid)), heaps, heaps.Values.All(h => h is not null));
    }
}

/// <summary>RSS and managed heap (after a forced GC) of each process; <see cref="GcForced"/> when every GC was seen.</summary>
internal sealed record Settled(Dictionary<int, long> Rss, Dictionary<int, long?> Heap, bool GcForced)
{
    public long HeapOf(IEnumerable<ServerProc> procs) => procs.Sum(p => Heap.GetValueOrDefault(p.Pid) ?? 0);
}
