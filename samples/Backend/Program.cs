// A .NET backend talking to OrleansGateway clients through the grain interfaces (no Kafka needed).
//   dotnet run --project samples/Backend -- alice room:lobby
// Against the one-command dev gateway (`dotnet run --project EdgeHost`, gateway port 30000), it:
//   1. asks whether <client> is online and how many sessions it has,
//   2. sends it a direct message (its mailbox keeps it if it is offline),
//   3. publishes on <channel>,
//   4. prints every `up` frame clients send (topic "orders") for 30 seconds.
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Streams;
using OrleansGateway.Grains;
using OrleansGateway.Hosting;

var clientId = args.ElementAtOrDefault(0) ?? "alice";
var channel = args.ElementAtOrDefault(1) ?? "room:lobby";

var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleansClient(client => client.AddGatewayClient(builder.Configuration));
using var host = builder.Build();
await host.StartAsync();
var orleans = host.Services.GetRequiredService<IClusterClient>();

var client = orleans.GetGrain<IClientGrain>(clientId);
var presence = await client.GetPresenceAsync();
Console.WriteLine($"{clientId}: online={presence.Online} sessions={presence.Sessions} seq={presence.Seq}");

var seq = await client.SendAsync("sample-backend", Encoding.UTF8.GetBytes("""{"text":"hello from a backend"}"""));
Console.WriteLine($"sent to {clientId}: seq {seq}");

var offset = await orleans.GetGrain<IChannelGrain>(channel).PublishAsync("sample-backend", Encoding.UTF8.GetBytes("""{"text":"announcement"}"""));
Console.WriteLine($"published on {channel}: off {offset}");

var upstream = orleans.GetStreamProvider(UpstreamStreams.ProviderName).GetStream<UpstreamMessage>(StreamId.Create(UpstreamStreams.Namespace, "orders"));
var subscription = await upstream.SubscribeAsync((m, _) =>
{
    Console.WriteLine($"up from {m.ClientId} on {m.Topic}: {Encoding.UTF8.GetString(m.Data)}");
    return Task.CompletedTask;
});
Console.WriteLine("listening for up frames on topic 'orders' for 30 s ({\"t\":\"up\",\"id\":\"1\",\"topic\":\"orders\",\"data\":…})");
await Task.Delay(TimeSpan.FromSeconds(30));
await subscription.UnsubscribeAsync();
await host.StopAsync();
