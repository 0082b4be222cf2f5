using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansGateway.Grains.Mailboxes;

namespace OrleansGateway.Tests.Mailboxes;

public sealed class MailboxStoreExceptionSerializationTests
{
    private static readonly IServiceProvider Services = new ServiceCollection()
        .AddSerializer(serializer => serializer.AddAssembly(typeof(MailboxStoreException).Assembly))
        .BuildServiceProvider();

    [Fact]
    public void MailboxStoreException_ThrownAndCaught_RoundTripsThroughTheOrleansSerializerWithItsCause()
    {
        // It is the answer a grain sends back to the edge: it must serialize, cause and all, with no inner exception.
        MailboxStoreException thrown;
        try
        {
            throw new MailboxStoreException("persisting seq 3 to client bob failed: RedisConnectionException: SocketFailure (ConnectionReset)");
        }
        catch (MailboxStoreException ex)
        {
            thrown = ex;
        }

        var serializer = Services.GetRequiredService<Serializer>();
        var copy = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(thrown));

        var typed = Assert.IsType<MailboxStoreException>(copy);
        Assert.Equal(thrown.Message, typed.Message);
        Assert.Null(typed.InnerException);
    }
}
