using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace OrleansGateway.Silo.Hosting;

/// <summary>
/// The Orleans dashboard (<c>Microsoft.Orleans.Dashboard</c>) on its own port behind basic authentication, only when
/// <c>Gateway:Dashboard:Enabled</c> (<see cref="SiloDashboardOptions"/>). Off, nothing of it is registered: no port,
/// no grain service, no profiling filter on grain calls.
/// </summary>
internal static class SiloDashboardExtensions
{
    /// <summary>Reads and validates the options before the host is built (they decide what is registered).</summary>
    public static SiloDashboardOptions GetSiloDashboardOptions(this IConfiguration configuration)
    {
        var options = configuration.GetSection(SiloDashboardOptions.SectionName).Get<SiloDashboardOptions>() ?? new();
        var result = new SiloDashboardOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(SiloDashboardOptions.SectionName, typeof(SiloDashboardOptions), result.Failures);
        }

        return options;
    }

    /// <summary>Adds the dashboard's port to the host's addresses and its services to the silo, when enabled.</summary>
    public static void AddSiloDashboard(this WebApplicationBuilder builder, ISiloBuilder silo, SiloDashboardOptions options)
    {
        builder.Services.AddOptions<SiloDashboardOptions>().BindConfiguration(SiloDashboardOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SiloDashboardOptions>, SiloDashboardOptionsValidator>();
        if (!options.Enabled)
        {
            return;
        }

        silo.AddDashboard();

        // Added to the configured addresses, not set with Kestrel's Listen: endpoints set in code replace the configured
        // ones (ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS), which carry the health and metrics port.
        var host = options.ListenOnAllInterfaces ? "*" : "localhost";
        builder.WebHost.UseUrls([.. ConfiguredUrls(builder.Configuration), $"http://{host}:{options.Port}"]);
    }

    /// <summary>Maps the dashboard on its port only, every request on that port authenticated first; nothing when disabled.</summary>
    public static WebApplication MapSiloDashboard(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<SiloDashboardOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        var expected = Hash($"{options.Username}:{options.Password}");
        app.UseWhen(
            context => context.Connection.LocalPort == options.Port,
            dashboard => dashboard.Use((context, next) => IsAuthorized(context.Request, expected) ? next(context) : ChallengeAsync(context)));
        app.MapOrleansDashboard().RequireHost($"*:{options.Port}");
        return app;
    }

    /// <summary>The addresses the host would listen on without the dashboard (Kestrel's own fallback last).</summary>
    internal static string[] ConfiguredUrls(IConfiguration configuration)
    {
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls)
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var http = (configuration[WebHostDefaults.HttpPortsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(port => $"http://*:{port}");
        var https = (configuration[WebHostDefaults.HttpsPortsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(port => $"https://*:{port}");
        string[] ports = [.. http, .. https];
        return ports.Length > 0 ? ports : ["http://localhost:5000"];
    }

    private static bool IsAuthorized(HttpRequest request, byte[] expected)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return false;
        }

        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return false;
        }

        // Hashes of equal length compared in constant time: neither the content nor the length of the secret leaks.
        return CryptographicOperations.FixedTimeEquals(Hash(credentials), expected);
    }

    private static Task ChallengeAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"orleans-dashboard\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }

    private static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
