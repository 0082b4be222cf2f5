using System.Diagnostics;
using System.Text;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// <c>fanout</c>: S subscribers of one channel spread over the edges, publishers publishing at a fixed total rate.
/// Deliveries/s, pub→deliver latency, loss by <c>off</c> accounting per subscriber. Skipped with a clear message if
/// the server answers <c>sub</c> with <c>err</c>.
/// </summary>
internal static class FanoutScenario
{
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    public static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var subscribers = s.Int("subscribers", 500);
        var pubRate = s.Double("pub-rate", 20);
        var duration = s.Double("duration", 10);
        var channel = $"bench:fan:{common.Run}";
        // One publisher per 100 publications/s: the edge allows 200 frames/s per connection by default.
        var publisherCount = (int)Math.Ceiling(pubRate / 100);
        long delivered = 0, gaps = 0, dups = 0, acked = 0, errors = 0, windowStart = long.MaxValue, windowEnd = long.MaxValue;
        string? refusal = null;
        var lastOff = new long[subscribers];
        var subscribed = new TaskCompletionSource[subscribers];
        var latencies = new Latencies((int)(pubRate * duration * subscribers * 1.2) + 10_000);
        void OnSubscriber(Conn conn, ServerFrame f)
        {
            switch (f.Type)
            {
                case FrameType.Ok when f.HasOff:
                    lastOff[conn.Index] = f.Off;
                    subscribed[conn.Index].TrySetResult();
                    break;
                case FrameType.Err:
                    refusal ??= $"{f.Code}: {f.Message}";
                    subscribed[conn.Index].TrySetResult();
                    break;
                case FrameType.Pub:
                    var now = Stopwatch.GetTimestamp();
                    if (f.Off <= lastOff[conn.Index])
                    {
                        Interlocked.Increment(ref dups);
                        return;
                    }

                    if (f.Off > lastOff[conn.Index] + 1)
                    {
                        Interlocked.Add(ref gaps, f.Off - lastOff[conn.Index] - 1);
                    }

                    lastOff[conn.Index] = f.Off;
                    Interlocked.Increment(ref delivered);
                    if (f.Ts >= windowStart && f.Ts < windowEnd)
                    {
                        latencies.Add((long)((now - f.Ts) * NanosPerTick));
                    }

                    break;
                default:
                    break;
            }
        }

        void OnPublisher(Conn conn, ServerFrame f)
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

        var subs = Enumerable.Range(0, subscribers).Select(i => new Conn($"{common.Run}-f{i}", OnSubscriber) { Index = i }).ToArray();
        var pubs = Enumerable.Range(0, publisherCount).Select(i => new Conn($"{common.Run}-p{i}", OnPublisher) { Index = i }).ToArray();
        var stats = await common.ConnectAllAsync(
            [.. subs.Select((c, i) => (c, common.Edges[i % common.Edges.Length])), .. pubs.Select((c, i) => (c, common.Edges[i % common.Edges.Length]))],
            s.Int("parallel", 64), cancellationToken);
        if (stats.Failed > 0)
        {
            Console.Error.WriteLine($"fanout: {stats.Failed} connections failed: {stats.FailureSummary()}");
            return 1;
        }

        for (var i = 0; i < subscribers; i++)
        {
            subscribed[i] = new(TaskCreationOptions.RunContinuationsAsynchronously);
            await subs[i].SendAsync(Encoding.UTF8.GetBytes($$"""{"t":"sub","id":"s","ch":"{{channel}}"}"""));
        }

        var all = Task.WhenAll(subscribed.Select(t => t.Task));
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken)) != all || refusal is not null)
        {
            var why = refusal is not null ? $"server answers err ({refusal})" : "no answer to sub within 30 s";
            Console.WriteLine($"fanout: not available: {why}");
            new Report("fanout", s).Add("subscribers", subscribers).Add("skipped", $"not available: {why}").Emit();
            Abort(subs, pubs);
            return 0;
        }

        var cpu0 = ServerProcs.CpuSeconds(common.Procs);
        var start = Stopwatch.GetTimestamp();
        windowStart = start;
        windowEnd = start + (long)(duration * Stopwatch.Frequency);
        long issued = 0;
        var pending = new Task[publisherCount];
        Array.Fill(pending, Task.CompletedTask);
        while (Stopwatch.GetTimestamp() < windowEnd)
        {
            var due = (long)(pubRate * (Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency);
            for (; issued < due; issued++)
            {
                var p = (int)(issued % publisherCount);
                var frame = Encoding.UTF8.GetBytes($$"""{"t":"pub","ch":"{{channel}}","data":{"ts":""" + Stopwatch.GetTimestamp() + "}}");
                var conn = pubs[p];
                pending[p] = pending[p].ContinueWith(_ => conn.SendAsync(frame), TaskScheduler.Default).Unwrap();
            }

            await Task.Delay(1, cancellationToken);
        }

        var cpu = ServerProcs.CpuSeconds(common.Procs) - cpu0;
        var windowDelivered = Interlocked.Read(ref delivered);
        await Task.WhenAll(pending);
        var settleStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(settleStart).TotalSeconds < 10 && (acked + errors < issued || delivered < acked * subscribers))
        {
            await Task.Delay(20, cancellationToken);
        }

        var lat = latencies.Summary();
        var lost = Math.Max(0, acked * subscribers - delivered);
        new Report("fanout", s)
            .Add("subscribers", subscribers)
            .Add("publishers", publisherCount)
            .Add("edges", common.Edges.Length)
            .Add("pub_rate", pubRate)
            .Add("duration_s", duration)
            .Add("published", issued)
            .Add("acked", acked)
            .Add("delivered", delivered)
            .Add("deliveries_per_second", windowDelivered / duration)
            .Add("p50_ms", lat.P50)
            .Add("p90_ms", lat.P90)
            .Add("p99_ms", lat.P99)
            .Add("max_ms", lat.Max)
            .Add("lost", lost)
            .Add("off_gaps", gaps)
            .Add("duplicates", dups)
            .Add("errors", errors)
            .Add("settle_s", Stopwatch.GetElapsedTime(settleStart).TotalSeconds)
            .Add("server_cpu_s", cpu)
            .Add("cpu_us_per_delivered", windowDelivered == 0 ? double.NaN : cpu * 1e6 / windowDelivered)
            .Emit();
        Abort(subs, pubs);
        return 0;
    }

    private static void Abort(Conn[] subs, Conn[] pubs)
    {
        foreach (var c in subs.Concat(pubs))
        {
            c.Abort();
        }
    }
}
