using System.Security.Cryptography;
using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class KeyProtectorTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "postern-kp-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void Round_trip_restores_the_same_key_and_ciphertext_hides_it()
    {
        var protector = new KeyProtector(_folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = key.ExportPkcs8PrivateKey();
        var d = key.ExportParameters(true).D!;

        var blob = protector.ProtectKey(key);

        Assert.Equal(-1, blob.AsSpan().IndexOf(pkcs8));
        Assert.Equal(-1, blob.AsSpan().IndexOf(d));
        using var restored = Assert.IsAssignableFrom<ECDsa>(new KeyProtector(_folder).UnprotectKey(blob));
        Assert.Equal(d, restored.ExportParameters(true).D);
    }

    [Fact]
    public void Rsa_keys_round_trip()
    {
        var protector = new KeyProtector(_folder);
        using var key = RSA.Create(2048);
        using var restored = Assert.IsAssignableFrom<RSA>(protector.UnprotectKey(protector.ProtectKey(key)));
        Assert.Equal(key.ExportRSAPublicKey(), restored.ExportRSAPublicKey());
    }

    [Fact]
    public void Master_key_is_32_bytes_owner_only_and_stable()
    {
        var protector = new KeyProtector(_folder);
        var blob = protector.Protect([1, 2, 3]);
        var path = Path.Combine(_folder, "keys", "master.key");

        Assert.Equal(32, new FileInfo(path).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.True(new KeyProtector(_folder).TryUnprotect(blob, out var plain));
        Assert.Equal(new byte[] { 1, 2, 3 }, plain);
    }

    [Fact]
    public void Tampered_blob_or_other_master_key_is_refused()
    {
        var protector = new KeyProtector(_folder);
        var blob = protector.Protect([9, 9, 9, 9]);
        var tampered = (byte[])blob.Clone();
        tampered[^1] ^= 1;

        Assert.False(protector.TryUnprotect(tampered, out _));
        Assert.False(new KeyProtector(_folder + "-other").TryUnprotect(blob, out _));
        Directory.Delete(_folder + "-other", recursive: true);
    }
}
