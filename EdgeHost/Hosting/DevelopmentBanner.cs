namespace OrleansGateway.EdgeHost.Hosting;

internal static partial class DevelopmentBanner
{
    /// <summary>In Development, prints how to get a token and connect.</summary>
    public static void LogDevelopmentBanner(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            return;
        }

        var url = app.Urls.FirstOrDefault() ?? "http://localhost:5080";
        Log.Banner(app.Logger, url);
    }

    private static partial class Log
    {
        [LoggerMessage(900, LogLevel.Information,
            "OrleansGateway dev edge ready. Get a token: curl '{Url}/dev/token?sub=alice' — then open the returned url with a WebSocket client (subprotocol ogw.v1.json) and send {{\"t\":\"send\",\"id\":\"1\",\"to\":\"bob\",\"data\":\"hi\"}}",
            EventName = "DevBanner")]
        public static partial void Banner(ILogger logger, string url);
    }
}
