using System.Net;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.ServerApi.ServerApiAssert;

namespace OrleansGateway.IntegrationTests.ServerApi;

/// <summary>A cluster of its own (one silo, one edge) whose only silo the test stops: the API answers 503 + Retry-After.</summary>
public sealed class ServerApiUnavailableTests
{
    private sealed class OneSiloCluster() : ServerApiGatewayCluster(silos: 1, edges: 1);

    [Fact]
    public async Task Calls_WhenEverySiloIsGone_Are503WithRetryAfter()
    {
        var cluster = new OneSiloCluster();
        await cluster.InitializeAsync();
        try
        {
            using var http = cluster.Api();
            await OkAsync(await http.PostAsync("/api/v1/send", Json("""{"to":"alice","data":1}""")));

            await cluster.StopSiloAsync(cluster.Silos[0]);

            HttpResponseMessage? send = null;
            await GatewayClusterExtensions.EventuallyAsync(async () =>
            {
                send = await http.PostAsync("/api/v1/send", Json("""{"to":"alice","data":2}"""));
                return send.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, TimeSpan.FromSeconds(60), "the send to be refused with 503");
            await ProblemAsync(send!, HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.Equal(TimeSpan.FromSeconds(7), send!.Headers.RetryAfter?.Delta);

            var presence = await http.GetAsync("/api/v1/clients/alice/presence");
            await ProblemAsync(presence, HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.Equal(TimeSpan.FromSeconds(7), presence.Headers.RetryAfter?.Delta);

            // A batch is refused whole when the edge knows it has no silo, or answered entry by entry: never a silent drop.
            var batch = await http.PostAsync("/api/v1/send/batch", Json("""{"messages":[{"to":"alice","data":3}]}"""));
            if (batch.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                await ProblemAsync(batch, HttpStatusCode.ServiceUnavailable, "unavailable");
            }
            else
            {
                var entry = (await OkAsync(batch)).GetProperty("results")[0];
                Assert.Equal(ProblemPrefix + "unavailable", entry.GetProperty("error").GetProperty("type").GetString());
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
