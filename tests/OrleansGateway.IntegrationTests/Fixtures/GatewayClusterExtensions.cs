namespace OrleansGateway.IntegrationTests.Fixtures;

internal static class GatewayClusterExtensions
{
    /// <summary>Retries <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes (then fails).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string what = "condition")
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(25);
        }
    }
}
