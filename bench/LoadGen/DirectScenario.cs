using System.Buffers.Text;
using System.Diagnostics;
using System.Text;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// <c>direct</c>: P pairs of clients, the two of a pair on different edges, each sending to the other; the total send
/// rate R is fixed (open loop, paced every millisecond) and swept over <c>--rates</c>. Latency is send→deliver from the
/// Stopwatch timestamp embedded in <c>data.ts</c>; loss is checked by seq accounting per recipient after a settle;
/// CPU per delivered message is utime+stime of every server process over the measured window.
/// </summary>
internal static class DirectScenario
{
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    public static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var pairs = s.Int("pairs", 500);
        var rates = s.Doubles("rates", [1000, 5000, 10000, 20000]);
        var warmup = s.Double("warmup", 2);
        var duration = s.Double("duration", 10);
        var settleLimit = s.Double("settle", 10);

        // --keys=true: every send carries an idempotency key (issue #13), to compare its cost with a run without.
        var keyed = s.Str("keys", "false") == "true";
        var scenario = keyed ? "direct-keyed" : "direct";
        var (state, connected) = await ConnectPairsAsync(common, pairs, k => (common.Edges[k % common.Edges.Length], common.Edges[(k + 1) % common.Edges.Length]), cancellationToken, keyed);
        if (connected.Failed > 0)
        {
            Console.Error.WriteLine($"direct: {connected.Failed} connections failed: {connected.FailureSummary()}");
            return 1;
        }

        var passed = new List<double>();
        var results = new List<(double Rate, bool Sustained)>();
        foreach (var rate in rates)
        {
            var step = (await RunStepAsync(common, state, rate, warmup, duration, settleLimit, cancellationToken, scenario)).Sustained;
            results.Add((rate, step));
            if (step)
            {
                passed.Add(rate);
            }
            else if (s.Str("stop-on-fail", "true") == "true")
            {
                break;
            }
        }

        // Background: what the server processes burn with every client connected and nothing sent (timers, leases,
        // membership, GC), measured after the sweep (JIT done, traffic settled), so CPU per message can be read net of it.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var idleSeconds = s.Double("idle-cpu-s", 5);
        var idleCpu0 = ServerProcs.CpuSeconds(common.Procs);
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds), cancellationToken);
        var background = (ServerProcs.CpuSeconds(common.Procs) - idleCpu0) / idleSeconds;
        new Report($"{scenario}-summary", s)
            .Add("background_server_cores", background)
            .Add("pairs", pairs)
            .Add("edges", common.Edges.Length)
            .Add("rates_tried", string.Join(",", results.Select(r => r.Rate)))
            .Add("rates_sustained", string.Join(",", passed))
            .Add("max_sustained_rate", passed.Count > 0 ? passed.Max() : 0)
            .Emit();
        foreach (var peer in state.Peers)
        {
            peer.Conn.Abort();
        }

        return 0;
    }

    /// <summary>Connects <paramref name="pairs"/> pairs, each peer on the edge <paramref name="edgesOf"/> names, and reads their welcome seq.</summary>
    internal static async Task<(State State, ConnectStats Connected)> ConnectPairsAsync(
        Common common, int pairs, Func<int, (Uri A, Uri B)> edgesOf, CancellationToken cancellationToken, bool keyed = false)
    {
        var state = new State();
        var peers = new Peer[pairs * 2];
        var targets = new List<(Conn, Uri)>();
        for (var k = 0; k < pairs; k++)
        {
            var a = $"{common.Run}-d{k}a";
            var b = $"{common.Run}-d{k}b";
            peers[2 * k] = new Peer(new Conn(a, state.OnFrame) { Index = 2 * k }, b, state, keyed);
            peers[2 * k + 1] = new Peer(new Conn(b, state.OnFrame) { Index = 2 * k + 1 }, a, state, keyed);
            var (edgeA, edgeB) = edgesOf(k);
            targets.Add((peers[2 * k].Conn, edgeA));
            targets.Add((peers[2 * k + 1].Conn, edgeB));
        }

        state.Peers = peers;
        var connected = await common.ConnectAllAsync(targets, common.Settings.Int("parallel", 64), cancellationToken);
        if (connected.Failed == 0)
        {
            foreach (var peer in peers)
            {
                peer.LastSeq = (await peer.Conn.Welcome).Seq;
            }
        }

        return (state, connected);
    }

    /// <summary>What one measured step found, for scenarios built on this one.</summary>
    internal readonly record struct StepResult(bool Sustained, double P50, double P99, long Lost, long Errors, double CpuUsPerDelivered);

    /// <summary>One measured step at a fixed total rate; emits one result line named <paramref name="scenario"/>.</summary>
    internal static async Task<StepResult> RunStepAsync(Common common, State state, double rate, double warmup, double duration, double settleLimit, CancellationToken cancellationToken, string scenario = "direct")
    {
        var s = common.Settings;
        state.Latencies = new Latencies((int)(rate * duration * 1.3) + 10_000);
        state.WindowStart = long.MaxValue;
        state.WindowEnd = long.MaxValue;
        var sent0 = state.Sent;
        var acked0 = state.Acked;
        var delivered0 = state.Delivered;
        var errors0 = state.Errors;
        var gaps0 = state.Gaps;
        var dups0 = state.Duplicates;
        state.WindowDelivered = 0;

        var start = Stopwatch.GetTimestamp();
        var warmupEnd = start + (long)(warmup * Stopwatch.Frequency);
        var end = warmupEnd + (long)(duration * Stopwatch.Frequency);
        state.WindowStart = warmupEnd;
        state.WindowEnd = end;
        long issued = 0;
        var measuring = false;
        double cpu0 = 0, self0 = 0;
        Dictionary<string, (string Group, double Seconds)> threads0 = [];
        Dictionary<string, long> switches0 = [];
        GcMonitor? gc = null;
        (long Busy, long Total, long Steal) machine0 = default;
        long sentAtWindow = 0;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (!measuring && now >= warmupEnd)
            {
                measuring = true;
                cpu0 = ServerProcs.CpuSeconds(common.Procs);
                self0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
                machine0 = ServerProcs.MachineJiffies();
                sentAtWindow = state.Sent;
                threads0 = ThreadCpu.Snapshot(common.Procs);
                switches0 = ThreadCpu.Switches(common.Procs);
                gc = s.Str("gc-events", "true") == "true" ? GcMonitor.Start(common.Procs) : null;
            }

            if (now >= end)
            {
                break;
            }

            var due = (long)(rate * (now - start) / Stopwatch.Frequency);
            for (; issued < due; issued++)
            {
                state.Peers[(int)(issued % state.Peers.Length)].Enqueue();
            }

            await Task.Delay(1, cancellationToken);
        }

        var cpu = ServerProcs.CpuSeconds(common.Procs) - cpu0;
        var threads = ThreadCpu.Breakdown(threads0, ThreadCpu.Snapshot(common.Procs));
        var switches1 = ThreadCpu.Switches(common.Procs);
        var gcStats = gc?.Stop();
        gc?.Dispose();
        var self = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - self0;
        var machine1 = ServerProcs.MachineJiffies();
        var windowSent = state.Sent - sentAtWindow;
        var windowDelivered = Interlocked.Read(ref state.WindowDelivered);

        // Settle: every send answered (ok or err) and every acknowledged message delivered, or the limit passes.
        var settleStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(settleStart).TotalSeconds < settleLimit
            && (state.Acked + state.Errors < issued + sent0 - state.SendFailures || state.Delivered - delivered0 < state.Acked - acked0 || state.Queued() > 0))
        {
            await Task.Delay(20, cancellationToken);
        }

        var settled = Stopwatch.GetElapsedTime(settleStart).TotalSeconds;
        var acked = state.Acked - acked0;
        var delivered = state.Delivered - delivered0;
        var lost = Math.Max(0, acked - delivered);
        var lat = state.Latencies.Summary();
        var deliveredPerSecond = windowDelivered / duration;
        var errors = state.Errors - errors0;
        var sustained = deliveredPerSecond >= 0.95 * rate && lost == 0 && errors == 0 && lat.P99 < 500 && settled < settleLimit;
        var machineBusy = 100.0 * (machine1.Busy - machine0.Busy) / Math.Max(1, machine1.Total - machine0.Total);
        new Report(scenario, s)
            .Add("pairs", state.Peers.Length / 2)
            .Add("edges", common.Edges.Length)
            .Add("target_rate", rate)
            .Add("duration_s", duration)
            .Add("sent_per_second", windowSent / duration)
            .Add("delivered_per_second", deliveredPerSecond)
            .Add("p50_ms", lat.P50)
            .Add("p90_ms", lat.P90)
            .Add("p99_ms", lat.P99)
            .Add("max_ms", lat.Max)
            .Add("latency_samples", lat.Count)
            .Add("sent", state.Sent - sent0)
            .Add("acked", acked)
            .Add("delivered", delivered)
            .Add("lost", lost)
            .Add("seq_gaps", state.Gaps - gaps0)
            .Add("duplicates", state.Duplicates - dups0)
            .Add("errors", errors)
            .Add("error_codes", state.ErrorCodes())
            .Add("settle_s", settled)
            .Add("server_cpu_s", cpu)
            .Add("server_cores_used", cpu / duration)
            .Add("cpu_us_per_delivered", windowDelivered == 0 ? double.NaN : cpu * 1e6 / windowDelivered)
            .Add("server_cpu_by_thread", threads)
            .Add("server_switches_per_delivered", ThreadCpu.SwitchesPer(switches0, switches1, windowDelivered))
            .Add("server_alloc_kb_per_delivered", gcStats is { } g1 && windowDelivered > 0 ? g1.Allocated / 1024.0 / windowDelivered : null)
            .Add("server_gc_count_gen0_1_2", gcStats is { } g2 ? $"{g2.Gen0}/{g2.Gen1}/{g2.Gen2}" : null)
            .Add("server_gc_suspended_ms", gcStats?.PauseMs)
            .Add("loadgen_cores_used", self / duration)
            .Add("machine_busy_pct", machineBusy)
            .Add("machine_steal_pct", 100.0 * (machine1.Steal - machine0.Steal) / Math.Max(1, machine1.Total - machine0.Total))
            .Add("sustained", sustained)
            .Emit();
        return new StepResult(sustained, lat.P50, lat.P99, lost, errors, windowDelivered == 0 ? double.NaN : cpu * 1e6 / windowDelivered);
    }

    internal sealed class State
    {
        public long Sent;
        public long Acked;
        public long Delivered;
        public long WindowDelivered;
        public long Errors;
        public long Gaps;
        public long Duplicates;
        public long SendFailures;
        public long WindowStart;
        public long WindowEnd;
        private readonly Dictionary<string, int> _codes = [];

        public Peer[] Peers { get; set; } = [];

        public Latencies Latencies { get; set; } = new(1);


        public long Queued() => Peers.Sum(p => (long)Volatile.Read(ref p.QueuedSends));

        public string ErrorCodes()
        {
            lock (_codes)
            {
                return string.Join(",", _codes.Select(kv => $"{kv.Key}={kv.Value}"));
            }
        }

        public void OnFrame(Conn conn, ServerFrame frame)
        {
            switch (frame.Type)
            {
                case FrameType.Msg:
                    var now = Stopwatch.GetTimestamp();
                    var peer = Peers[conn.Index];
                    if (frame.Seq <= peer.LastSeq)
                    {
                        Interlocked.Increment(ref Duplicates);
                        return;
                    }

                    if (frame.Seq > peer.LastSeq + 1)
                    {
                        Interlocked.Add(ref Gaps, frame.Seq - peer.LastSeq - 1);
                    }

                    peer.LastSeq = frame.Seq;
                    Interlocked.Increment(ref Delivered);
                    if (now >= WindowStart && now < WindowEnd)
                    {
                        Interlocked.Increment(ref WindowDelivered);
                    }

                    if (frame.Ts >= WindowStart && frame.Ts < WindowEnd)
                    {
                        Latencies.Add((long)((now - frame.Ts) * NanosPerTick));
                    }

                    break;
                case FrameType.Ok:
                    Interlocked.Increment(ref Acked);
                    break;
                case FrameType.Err:
                    Interlocked.Increment(ref Errors);
                    lock (_codes)
                    {
                        _codes[frame.Code ?? "?"] = _codes.GetValueOrDefault(frame.Code ?? "?") + 1;
                    }

                    break;
                default:
                    break;
            }
        }
    }

    /// <param name="keyed">Every send carries <c>"key":"k&lt;n&gt;"</c>, n counting this peer's sends (unique per sender).</param>
    internal sealed class Peer(Conn conn, string to, State state, bool keyed = false)
    {
        private static readonly byte[] KeyedData = Encoding.UTF8.GetBytes("\",\"data\":{\"ts\":");

        public int QueuedSends;
        private readonly byte[] _prefix = Encoding.UTF8.GetBytes(keyed ? $$"""{"t":"send","to":"{{to}}","key":"k""" : $$"""{"t":"send","to":"{{to}}","data":{"ts":""");
        private readonly byte[] _buffer = new byte[512];
        private long _keys; // sends of one peer go out one at a time (PumpAsync), so no interlocking

        public Conn Conn { get; } = conn;

        public long LastSeq { get; set; }

        /// <summary>One more send due; sends of a connection go out one at a time, in order.</summary>
        public void Enqueue()
        {
            if (Interlocked.Increment(ref QueuedSends) == 1)
            {
                _ = PumpAsync();
            }
        }

        private async Task PumpAsync()
        {
            do
            {
                _prefix.CopyTo(_buffer, 0);
                var length = _prefix.Length;
                int written;
                if (keyed)
                {
                    Utf8Formatter.TryFormat(++_keys, _buffer.AsSpan(length), out written);
                    length += written;
                    KeyedData.CopyTo(_buffer, length);
                    length += KeyedData.Length;
                }

                Utf8Formatter.TryFormat(Stopwatch.GetTimestamp(), _buffer.AsSpan(length), out written);
                length += written;
                _buffer[length++] = (byte)'}';
                _buffer[length++] = (byte)'}';
                try
                {
                    Interlocked.Increment(ref state.Sent);
                    await Conn.SendAsync(_buffer.AsMemory(0, length));
                }
                catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or InvalidOperationException)
                {
                    Interlocked.Increment(ref state.SendFailures);
                }
            }
            while (Interlocked.Decrement(ref QueuedSends) > 0);
        }
    }
}
