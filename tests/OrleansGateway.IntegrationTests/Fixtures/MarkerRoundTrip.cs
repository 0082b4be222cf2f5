namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// Proves that nothing reached a client's mailbox: a marker sent to it afterwards must be the next message it gets.
/// A round trip through the same path (edge → mailbox grain → push), unlike a ping, which never leaves the edge and
/// so cannot show a message still on its way.
/// </summary>
internal static class MarkerRoundTrip
{
    /// <summary>
    /// Sends a marker from <paramref name="sender"/> to <paramref name="recipientId"/> (whose session is
    /// <paramref name="recipient"/>) and asserts it arrives as the next message, with the seq right after the last
    /// message the recipient had: had anything else reached the mailbox before, it would hold that seq and arrive first.
    /// </summary>
    public static async Task AssertMarkerIsNextMessageAsync(this TestClient recipient, string recipientId, TestClient sender)
    {
        var before = recipient.Messages;
        var expectedSeq = before.Count == 0 ? recipient.Frames.First(f => f.Type() == "welcome").Seq() + 1 : before[^1].Seq() + 1;
        var marker = $"marker-{Guid.NewGuid():N}";
        Assert.Equal("ok", (await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{recipientId}}","data":"{{marker}}"}""")).Type());
        await recipient.WaitForMessagesAsync(before.Count + 1);
        var next = recipient.Messages[before.Count];
        Assert.Equal($"\"{marker}\"", next.GetProperty("data").GetRawText());
        Assert.Equal(expectedSeq, next.Seq());
    }
}
