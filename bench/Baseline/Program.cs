// Raw Kestrel baseline for bench/: the same frame semantics as the gateway for send/sub/pub/ping, in one process,
// in memory, no Orleans. Naive but correct: per-recipient seq under a lock, per-channel off under a lock, a bounded
// outbox per socket read by one send loop, the same HS256 JWT check before the upgrade.
//   BENCH_SECRET=<≥32 bytes> BENCH_ISSUER=bench BENCH_AUDIENCE=ogw ASPNETCORE_URLS=http://127.0.0.1:5300 \
//     dotnet bench/Baseline/bin/Release/net10.0/OrleansGateway.Bench.Baseline.dll
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrleansGateway.Bench.Baseline;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var secret = Environment.GetEnvironmentVariable("BENCH_SECRET") ?? throw new InvalidOperationException("BENCH_SECRET is required");
var parameters = new TokenValidationParameters
{
    ValidIssuer = Environment.GetEnvironmentVariable("BENCH_ISSUER") ?? "bench",
    ValidAudience = Environment.GetEnvironmentVariable("BENCH_AUDIENCE") ?? "ogw",
    IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)) { KeyId = "bench" },
    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
    ValidateIssuerSigningKey = true,
    ClockSkew = TimeSpan.FromSeconds(30),
};
var app = builder.Build();
var hub = new Hub();
var handler = new JsonWebTokenHandler();
app.UseWebSockets();
app.MapGet("/health/ready", () => "ok");
app.Map("/ws", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 400;
        return;
    }

    var header = context.Request.Headers.Authorization.ToString();
    var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : context.Request.Query["access_token"].ToString();
    var result = string.IsNullOrEmpty(token) ? null : await handler.ValidateTokenAsync(token, parameters);
    if (result is not { IsValid: true } || !result.Claims.TryGetValue("sub", out var subject) || subject is not string clientId || !FrameCodec.IsValidId(clientId))
    {
        context.Response.StatusCode = 401;
        return;
    }

    var offered = context.WebSockets.WebSocketRequestedProtocols;
    using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
    {
        SubProtocol = offered.Count > 0 ? FrameCodec.SubProtocol : null,
        KeepAliveInterval = TimeSpan.FromSeconds(25),
    });
    await new Session(clientId, socket, hub).RunAsync(context.RequestAborted);
});
app.Run();
