// One send → msg hop at a time, against a running dev gateway (tokens from /dev/token).
//   dotnet run -c Release --project bench/HopLatency -- http://localhost:5080 5000
// Prints p50/p90/p99/max of: alice sends {"t":"send"} → bob's socket receives the matching {"t":"msg"}.
// One pair at full speed exceeds the default per-connection budget (Gateway:Limits:FramesPerSecond = 200): start the
// gateway with Gateway__Limits__FramesPerSecond=1000000 Gateway__Limits__FrameBurst=1000000
// Gateway__Limits__ClientFramesPerSecond=1000000 Gateway__Limits__ClientFrameBurst=1000000 (per-client budget too).
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

var baseUrl = new Uri(args.ElementAtOrDefault(0) ?? "http://localhost:5080");
var count = int.Parse(args.ElementAtOrDefault(1) ?? "5000");
var run = Guid.NewGuid().ToString("N")[..6];
using var http = new HttpClient { BaseAddress = baseUrl };

async Task<ClientWebSocket> ConnectAsync(string sub)
{
    var token = (await http.GetFromJsonAsync<JsonElement>($"/dev/token?sub={sub}")).GetProperty("token").GetString();
    var socket = new ClientWebSocket();
    socket.Options.AddSubProtocol("ogw.v1.json");
    await socket.ConnectAsync(new Uri($"ws://{baseUrl.Authority}/ws?access_token={token}"), CancellationToken.None);
    return socket;
}

async Task<JsonElement> ReceiveAsync(ClientWebSocket socket, byte[] buffer)
{
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
    var result = await socket.ReceiveAsync(buffer, timeout.Token); // no answer in 10 s: refused (err) or lost: fail loudly
    return JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement;
}

var alice = await ConnectAsync($"alice-{run}");
var bob = await ConnectAsync($"bob-{run}");
var aliceBuffer = new byte[64 * 1024];
var bobBuffer = new byte[64 * 1024];
await ReceiveAsync(alice, aliceBuffer); // welcome
await ReceiveAsync(bob, bobBuffer);

// Alice's ok frames are drained in the background so her socket never backs up.
var draining = Task.Run(async () =>
{
    for (var i = 0; i < count + 200; i++)
    {
        await ReceiveAsync(alice, aliceBuffer);
    }
});

var samples = new double[count];
for (var i = -200; i < count; i++) // 200 warm-up hops
{
    var frame = Encoding.UTF8.GetBytes($$"""{"t":"send","id":"{{i}}","to":"bob-{{run}}","data":{{i}}}""");
    var start = Stopwatch.GetTimestamp();
    await alice.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
    var msg = await ReceiveAsync(bob, bobBuffer);
    var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    if (msg.GetProperty("data").GetInt32() != i)
    {
        throw new InvalidOperationException($"out of order: expected {i}, got {msg}");
    }

    if (i >= 0)
    {
        samples[i] = elapsed;
    }
}

await draining;
Array.Sort(samples);
double P(double q) => samples[Math.Min(samples.Length - 1, (int)(q * samples.Length))];
Console.WriteLine($"hops={count} p50={P(0.50):F3}ms p90={P(0.90):F3}ms p99={P(0.99):F3}ms max={samples[^1]:F3}ms");
