using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// <c>drain</c>: N receivers on the edge to drain, S senders (default min(N, 1,000)) on the other edges sending to them
/// round-robin at a fixed total rate;
/// <c>POST /admin/drain</c> (Bearer admin token) on the drained edge; receivers reconnect to the other edges after
/// <c>reconnect_ms</c> with <c>last_seq</c>. Reports the bye spread, time until every receiver is back, recovered flags
/// and loss by seq accounting. Skipped with a clear message if the endpoint answers 404.
/// </summary>
internal static class DrainScenario
{
    public static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        var common = new Common(s);
        var drainWs = new Uri(s.OptionalStr("drain-edge") ?? throw new ArgumentException("--drain-edge=ws://host:port is required"));
        var token = s.OptionalStr("admin-token") ?? Environment.GetEnvironmentVariable("BENCH_ADMIN_TOKEN") ?? "";
        var n = s.Int("clients", 1000);
        var rate = s.Double("rate", 500);
        var senderCount = s.Int("senders", Math.Min(n, 1000)); // fewer than N: the load generator's open-files limit
        var timeout = s.Double("reconnect-timeout", 90);
        long acked = 0, errors = 0, delivered = 0, gaps = 0, dups = 0, byes = 0, notRecovered = 0, reconnectFailures = 0, reconnected = 0;
        long firstBye = 0, lastBye = 0, lastReconnect = 0;
        var lastSeq = new long[n];
        var receivers = new Conn[n];
        var reconnecting = new Task?[n];

        void OnReceiver(Conn conn, ServerFrame f)
        {
            var i = conn.Index;
            switch (f.Type)
            {
                case FrameType.Msg:
                    if (f.Seq <= lastSeq[i])
                    {
                        Interlocked.Increment(ref dups);
                        return;
                    }

                    if (f.Seq > lastSeq[i] + 1)
                    {
                        Interlocked.Add(ref gaps, f.Seq - lastSeq[i] - 1);
                    }

                    lastSeq[i] = f.Seq;
                    Interlocked.Increment(ref delivered);
                    break;
                case FrameType.Bye:
                    var now = Stopwatch.GetTimestamp();
                    Interlocked.CompareExchange(ref firstBye, now, 0);
                    Volatile.Write(ref lastBye, now);
                    Interlocked.Increment(ref byes);
                    var delay = f.ReconnectMs;
                    reconnecting[i] = Task.Run(async () =>
                    {
                        await conn.Receiving;
                        conn.Abort(); // frees its socket now: N old + N new sockets would pass the open-files limit
                        await Task.Delay(TimeSpan.FromMilliseconds(delay), cancellationToken);
                        await ReconnectAsync(i);
                    }, cancellationToken);
                    break;
                default:
                    break;
            }
        }

        async Task ReconnectAsync(int i)
        {
            var conn = new Conn(receivers[i].ClientId, OnReceiver) { Index = i };
            var result = await conn.ConnectWithRetryAsync(common.Edges[i % common.Edges.Length], common.Tokens.For(conn.ClientId), lastSeq[i], 20, cancellationToken);
            if (!result.Ok)
            {
                Interlocked.Increment(ref reconnectFailures);
                return;
            }

            receivers[i] = conn;
            if (!(await conn.Welcome).Recovered)
            {
                Interlocked.Increment(ref notRecovered);
            }

            Interlocked.Increment(ref reconnected);
            Volatile.Write(ref lastReconnect, Stopwatch.GetTimestamp());
        }

        void OnSender(Conn conn, ServerFrame f)
        {
            if (f.Type == FrameType.Ok)
            {
                Interlocked.Increment(ref acked);
            }
            else if (f.Type == FrameType.Err)
            {
                Interlocked.Increment(ref errors);
            }
        }

        for (var i = 0; i < n; i++)
        {
            receivers[i] = new Conn($"{common.Run}-r{i}", OnReceiver) { Index = i };
        }

        var senders = Enumerable.Range(0, senderCount).Select(i => new Conn($"{common.Run}-s{i}", OnSender) { Index = i }).ToArray();
        var stats = await common.ConnectAllAsync(
            [.. receivers.Select(r => (r, drainWs)), .. senders.Select((c, i) => (c, common.Edges[i % common.Edges.Length]))],
            s.Int("parallel", 64), cancellationToken);
        if (stats.Failed > 0)
        {
            Console.Error.WriteLine($"drain: {stats.Failed} connections failed: {stats.FailureSummary()}");
            return 1;
        }

        for (var i = 0; i < n; i++)
        {
            lastSeq[i] = (await receivers[i].Welcome).Seq;
        }

        // Traffic: send k goes from sender k mod S to receiver k mod N, paced, one send at a time per sender.
        using var stopTraffic = new CancellationTokenSource();
        long sent = 0;
        var traffic = Task.Run(async () =>
        {
            var start = Stopwatch.GetTimestamp();
            var pending = new Task[senderCount];
            Array.Fill(pending, Task.CompletedTask);
            long issued = 0;
            while (!stopTraffic.IsCancellationRequested)
            {
                var due = (long)(rate * Stopwatch.GetElapsedTime(start).TotalSeconds);
                for (; issued < due; issued++)
                {
                    var i = (int)(issued % n);
                    var from = (int)(issued % senderCount);
                    if (!pending[from].IsCompleted)
                    {
                        continue;
                    }

                    var frame = Encoding.UTF8.GetBytes($$"""{"t":"send","to":"{{receivers[i].ClientId}}","data":{"ts":""" + Stopwatch.GetTimestamp() + "}}");
                    Interlocked.Increment(ref sent);
                    pending[from] = senders[from].SendAsync(frame);
                }

                await Task.Delay(1);
            }

            await Task.WhenAll(pending);
        });

        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        using var http = new HttpClient();
        var drainUrl = new UriBuilder(drainWs) { Scheme = "http", Path = s.Str("drain-path", "/admin/drain") }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Post, drainUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var posted = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            await stopTraffic.CancelAsync();
            await traffic;
            var why = $"not available: POST {drainUrl.AbsolutePath} answered {(int)response.StatusCode} (no admin drain endpoint, or Gateway:Drain:AdminToken unset)";
            Console.WriteLine($"drain: {why}");
            new Report("drain", s).Add("clients", n).Add("skipped", why).Emit();
            return 0;
        }

        if (!response.IsSuccessStatusCode)
        {
            await stopTraffic.CancelAsync();
            Console.Error.WriteLine($"drain: POST {drainUrl} answered {(int)response.StatusCode}");
            return 1;
        }

        var waitStart = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref reconnected) + Interlocked.Read(ref reconnectFailures) < n && Stopwatch.GetElapsedTime(waitStart).TotalSeconds < timeout)
        {
            await Task.Delay(100, cancellationToken);
        }

        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken); // traffic keeps flowing to the reconnected receivers
        await stopTraffic.CancelAsync();
        await traffic;
        var settleStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(settleStart).TotalSeconds < 10 && (acked + errors < sent || delivered < acked))
        {
            await Task.Delay(50, cancellationToken);
        }

        double Since(long t) => t == 0 ? double.NaN : (t - posted) / (double)Stopwatch.Frequency;
        new Report("drain", s)
            .Add("clients", n)
            .Add("senders", senderCount)
            .Add("rate", rate)
            .Add("drain_status", (int)response.StatusCode)
            .Add("byes", byes)
            .Add("first_bye_s", Since(firstBye))
            .Add("last_bye_s", Since(lastBye))
            .Add("all_reconnected_s", Interlocked.Read(ref reconnected) == n ? Since(lastReconnect) : double.NaN)
            .Add("reconnected", reconnected)
            .Add("reconnect_failures", reconnectFailures)
            .Add("recovered_false", notRecovered)
            .Add("sent", sent)
            .Add("acked", acked)
            .Add("send_errors", errors)
            .Add("delivered", delivered)
            .Add("lost", Math.Max(0, acked - delivered))
            .Add("seq_gaps", gaps)
            .Add("duplicates", dups)
            .Emit();
        foreach (var c in receivers.Concat(senders))
        {
            c.Abort();
        }

        return 0;
    }
}
