using System.Diagnostics;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Backends;

/// <summary>The README's sample backend (<c>samples/Backend</c>), run as its own process against the test cluster.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SampleBackendTests(GatewayCluster cluster)
{
    [Fact]
    public async Task SampleBackend_AgainstTheCluster_PresenceSendPublishAndUpAllWork()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var clientId = $"alice-{run}";
        var channel = $"room:{run}";
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(clientId));
        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());

        var output = new List<string>();
        var start = GatewayProcess.StartInfo("OrleansGateway.Samples.Backend.dll", cluster.ClientConfiguration(), clientId, channel);
        using var sample = Process.Start(start)!;
        sample.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (output)
                {
                    output.Add(line);
                }
            }
        };
        sample.ErrorDataReceived += (_, _) => { };
        sample.BeginOutputReadLine();
        sample.BeginErrorReadLine();
        try
        {
            Task Printed(string text) => GatewayClusterExtensions.EventuallyAsync(() =>
            {
                lock (output)
                {
                    return Task.FromResult(output.Any(l => l.Contains(text, StringComparison.Ordinal)));
                }
            }, TimeSpan.FromSeconds(60), $"the sample to print '{text}'");

            await Printed($"{clientId}: online=True sessions=1");
            await alice.WaitForMessagesAsync(1);
            var message = Assert.Single(alice.Messages);
            Assert.Equal("sample-backend", message.GetProperty("from").GetString());
            Assert.Equal("hello from a backend", message.GetProperty("data").GetProperty("text").GetString());
            await alice.WaitUntilAsync(f => f.Any(x => x.Type() == "pub"));
            Assert.Equal("announcement", alice.Frames.Single(f => f.Type() == "pub").GetProperty("data").GetProperty("text").GetString());

            await Printed("listening for up frames");
            Assert.Equal("ok", (await alice.RequestAsync("""{"t":"up","id":"$id","topic":"orders","data":{"order":7}}""")).Type());
            await Printed($$"""up from {{clientId}} on orders: {"order":7}""");
        }
        finally
        {
            sample.Kill(entireProcessTree: true);
        }
    }
}
