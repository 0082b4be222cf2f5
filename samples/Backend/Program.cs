// A .NET backend talking to OrleansGateway clients through the backend library (clients/dotnet-backend: the grain
// contracts behind a typed facade, no Kafka needed).
//   dotnet run --project samples/Backend -- alice room:lobby
// Against the one-command dev gateway (`dotnet run --project EdgeHost`, gateway port 30000), it:
//   1. asks whether <client> is online and how many sessions it has,
//   2. sends it a direct message (its mailbox keeps it if it is offline),
//   3. publishes on <channel>,
//   4. prints every `up` frame clients send (topic "orders") and who connects and disconnects, for 30 seconds
//      (lifecycle events are off by default: start the gateway with Gateway__Events__Kinds="Connected, Disconnected").
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansGateway.Backend;
using OrleansGateway.Grains;
using OrleansGateway.Hosting;

var clientId = args.ElementAtOrDefault(0) ?? "alice";
var channel = args.ElementAtOrDefault(1) ?? "room:lobby";

var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleansClient(client => client.AddGatewayClient(builder.Configuration).AddGatewayBackend(o => o.Name = "sample-backend"));
using var host = builder.Build();
await host.StartAsync();
var gateway = host.Services.GetRequiredService<IGatewayBackend>();

var presence = await gateway.GetPresenceAsync(clientId);
Console.WriteLine($"{clientId}: online={presence.Online} sessions={presence.Sessions} seq={presence.Seq}");

var sent = await gateway.SendAsync(clientId, new { text = "hello from a backend" });
Console.WriteLine($"sent to {clientId}: seq {sent.Position}");

var published = await gateway.PublishAsync(channel, new { text = "announcement" });
Console.WriteLine($"published on {channel}: off {published.Position}");

await using (await gateway.SubscribeUpstreamAsync("orders", m =>
{
    Console.WriteLine($"up from {m.ClientId} on {m.Topic}: {Encoding.UTF8.GetString(m.Data)}");
    return Task.CompletedTask;
}))
await using (await gateway.SubscribeLifecycleAsync(e =>
{
    Console.WriteLine(e.Kind switch
    {
        LifecycleEventKinds.Connected => $"{e.ClientId} connected on edge {e.EdgeId} (resumed={e.Resumed}, recovered={e.Recovered})",
        LifecycleEventKinds.Disconnected => $"{e.ClientId} disconnected from edge {e.EdgeId}: {e.Reason}",
        _ => $"{e.ClientId} {LifecycleEvents.Name(e.Kind)} {e.Channel}",
    });
    return Task.CompletedTask;
}))
{
    Console.WriteLine("listening for up frames on topic 'orders' for 30 s ({\"t\":\"up\",\"id\":\"1\",\"topic\":\"orders\",\"data\":…})");
    await Task.Delay(TimeSpan.FromSeconds(30));
}

await host.StopAsync();
