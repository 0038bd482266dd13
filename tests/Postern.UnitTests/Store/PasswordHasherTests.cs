using Postern.Store;

namespace Postern.UnitTests.Store;

public sealed class PasswordHasherTests
{
    [Fact]
    public void HashVerifiesOnlyTheRightPassword()
    {
        var hash = PasswordHasher.Hash("pässword", 1000);
        Assert.True(PasswordHasher.Verify("pässword", hash));
        Assert.False(PasswordHasher.Verify("password", hash));
        Assert.NotEqual(hash, PasswordHasher.Hash("pässword", 1000));
    }

    [Theory]
    [InlineData("")]
    [InlineData("$pbkdf2-sha256$i=0$AAAA$AAAA")]
    [InlineData("$pbkdf2-sha256$i=10$***$AAAA")]
    [InlineData("$md5$x$y$z")]
    public void MalformedHashesNeverVerify(string encoded) => Assert.False(PasswordHasher.Verify("x", encoded));

    [Fact]
    public void DefaultCostIsOwaspsPbkdf2Sha256Recommendation() => Assert.Equal(600_000, new StoreOptions { DataDirectory = "x" }.PasswordIterations);
}
