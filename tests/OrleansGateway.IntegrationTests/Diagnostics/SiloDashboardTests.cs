using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Diagnostics;

/// <summary>The Orleans dashboard on the built Silo host, run as its own process (a one-silo cluster of its own).</summary>
public sealed class SiloDashboardTests
{
    private const string Username = "ops";
    private const string Password = "dashboard-password-0123456789";

    [Fact]
    public async Task Dashboard_Enabled_OnItsPortOnlyAndOnlyWithTheRightCredentials()
    {
        var dashboardPort = GatewayCluster.FreeTcpPort();
        var httpPort = GatewayCluster.FreeTcpPort();
        using var silo = await StartSiloAsync(httpPort, new()
        {
            ["Gateway:Dashboard:Enabled"] = "true",
            ["Gateway:Dashboard:Port"] = dashboardPort.ToString(),
            ["Gateway:Dashboard:Username"] = Username,
            ["Gateway:Dashboard:Password"] = Password,
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var dashboard = new Uri($"http://127.0.0.1:{dashboardPort}/");

        using var anonymous = await http.GetAsync(dashboard);
        using var wrong = await GetAsync(http, dashboard, Username, Password + "x");
        using var right = await GetAsync(http, dashboard, Username, Password);
        using var onMainPort = await GetAsync(http, new Uri($"http://127.0.0.1:{httpPort}/"), Username, Password);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("<html", await right.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.NotFound, onMainPort.StatusCode); // the dashboard is not on the health/metrics port
    }

    [Fact]
    public async Task Dashboard_ByDefault_ItsPortIsNotListening()
    {
        var dashboardPort = GatewayCluster.FreeTcpPort();
        using var silo = await StartSiloAsync(GatewayCluster.FreeTcpPort(), new()
        {
            ["Gateway:Dashboard:Port"] = dashboardPort.ToString(),
        });

        using var tcp = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => tcp.ConnectAsync(IPAddress.Loopback, dashboardPort));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Dashboard_EnabledWithoutCredentials_SiloRefusesToStart()
    {
        var start = GatewayProcess.StartInfo("OrleansGateway.Silo.dll", SiloSettings(new() { ["Gateway:Dashboard:Enabled"] = "true" }));
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{GatewayCluster.FreeTcpPort()}";
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the silo kept running with an open dashboard");
        }

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("Gateway:Dashboard:Password", await error + await output, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, Uri uri, string username, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
        return http.SendAsync(request);
    }

    private static async Task<GatewayProcess> StartSiloAsync(int httpPort, Dictionary<string, string?> dashboard) =>
        await GatewayProcess.StartAsync("OrleansGateway.Silo.dll", httpPort, SiloSettings(dashboard));

    /// <summary>A cluster of one: localhost clustering with this silo as its own primary.</summary>
    private static Dictionary<string, string?> SiloSettings(Dictionary<string, string?> dashboard) =>
        new Dictionary<string, string?>
        {
            ["Gateway:Cluster:ClusterId"] = $"dash-{Guid.NewGuid():N}"[..16],
            ["Gateway:Cluster:ServiceId"] = "ogw-tests",
            ["Gateway:Cluster:SiloPort"] = GatewayCluster.FreeTcpPort().ToString(),
            ["Gateway:Cluster:GatewayPort"] = GatewayCluster.FreeTcpPort().ToString(),
        }.Concat(dashboard).ToDictionary(kv => kv.Key, kv => kv.Value);
}
