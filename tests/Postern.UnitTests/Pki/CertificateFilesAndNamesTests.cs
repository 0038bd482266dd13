using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class CertificateFilesAndNamesTests
{
    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public void Reads_DER_PEM_chain_and_PKCS7_in_DER_and_PEM()
    {
        using var a = SelfSigned("a");
        using var b = SelfSigned("b");
        var pemChain = Encoding.ASCII.GetBytes("junk before\n" + PemEncoding.WriteString("CERTIFICATE", a.RawData) + "\n" + PemEncoding.WriteString("CERTIFICATE", b.RawData));
        var p7b = CertificateFiles.WritePkcs7([a, b]);
        var p7bPem = Encoding.ASCII.GetBytes(PemEncoding.WriteString("PKCS7", p7b));

        Assert.Equal([a.Thumbprint], CertificateFiles.Read(a.RawData, 100_000).Value!.Select(c => c.Thumbprint));
        Assert.Equal([a.Thumbprint, b.Thumbprint], CertificateFiles.Read(pemChain, 100_000).Value!.Select(c => c.Thumbprint));
        // A DER SET OF is sorted by encoding, so a .p7b does not keep the order the certificates were given in.
        string[] both = [a.Thumbprint, b.Thumbprint];
        Assert.Equal(both.Order(), CertificateFiles.Read(p7b, 100_000).Value!.Select(c => c.Thumbprint).Order());
        Assert.Equal(both.Order(), CertificateFiles.Read(p7bPem, 100_000).Value!.Select(c => c.Thumbprint).Order());
    }

    [Fact]
    public void Reads_a_p7b_made_by_openssl()
    {
        if (!OpenSsl.Available)
        {
            return;
        }

        using var a = SelfSigned("openssl-a");
        var folder = Directory.CreateTempSubdirectory("postern-p7b").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "a.pem"), PemEncoding.WriteString("CERTIFICATE", a.RawData));
            Assert.Equal(0, OpenSsl.Run("crl2pkcs7 -nocrl -certfile a.pem -outform DER -out a.p7b", folder).ExitCode);
            var read = CertificateFiles.Read(File.ReadAllBytes(Path.Combine(folder, "a.p7b")), 100_000);
            Assert.True(read.Succeeded, read.Error);
            Assert.Equal(a.Thumbprint, Assert.Single(read.Value!).Thumbprint);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 0x30, 0x03, 0x02, 0x01 }, "not a certificate")]
    public void Garbage_is_refused_with_a_message(byte[] file, string message)
    {
        var read = CertificateFiles.Read(file, 100_000);
        Assert.False(read.Succeeded);
        Assert.Contains(message, read.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_files_are_refused_before_parsing() =>
        Assert.Contains("larger than", CertificateFiles.Read(new byte[2000], 1000).Error, StringComparison.Ordinal);

    [Theory]
    [InlineData("mail.example.com", true)]
    [InlineData("*.example.com", true)]
    [InlineData("*.com", false)]
    [InlineData("mail", false)]
    [InlineData("mail..example.com", false)]
    [InlineData("-mail.example.com", false)]
    [InlineData("mail_1.example.com", false)]
    [InlineData("1.2.3.4", false)]
    [InlineData("a.b*.example.com", false)]
    public void Fqdn_validation(string name, bool valid) => Assert.Equal(valid, CertificateNames.IsFqdn(name, allowWildcard: true));

    [Theory]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "a.b.example.com", false)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("Mail.Example.com", "mail.example.COM.", true)]
    public void Wildcards_match_one_label(string pattern, string name, bool matches) =>
        Assert.Equal(matches, CertificateFacts.NameMatches(pattern, name, out _));

    [Fact]
    public void Country_list_is_ISO_3166_alpha_2()
    {
        Assert.True(CertificateNames.IsCountry("US"));
        Assert.True(CertificateNames.IsCountry("GB"));
        Assert.False(CertificateNames.IsCountry("UK"));
        Assert.False(CertificateNames.IsCountry("us"));
        Assert.False(CertificateNames.IsCountry("USA"));
        const string table = "/usr/share/zoneinfo/iso3166.tab";
        if (File.Exists(table))
        {
            var codes = File.ReadAllLines(table).Where(l => l.Length > 2 && l[0] != '#').Select(l => l[..2]).ToHashSet();
            Assert.Equal(codes.Order(), PkiService.CountryCodes.Order());
        }
    }

    [Theory]
    [InlineData("rsa2048", KeyAlgorithm.Rsa2048)]
    [InlineData("RSA4096", KeyAlgorithm.Rsa4096)]
    [InlineData("p384", KeyAlgorithm.P384)]
    [InlineData("p256", KeyAlgorithm.P256)]
    public void Key_algorithm_names_parse(string text, KeyAlgorithm expected)
    {
        Assert.True(PkiService.TryParseKeyAlgorithm(text, out var algorithm));
        Assert.Equal(expected, algorithm);
        Assert.False(PkiService.TryParseKeyAlgorithm("dsa1024", out _));
    }
}

public sealed class PkiOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_nonsense_is_named()
    {
        Assert.Empty(new PkiOptions().Validate());
        var problems = new PkiOptions { PublicBaseUrl = "not a url", CaValidityYears = 0, RenewalWindowDays = 5000 }.Validate();
        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public void Every_limit_name_sets_its_option_and_the_result_is_checked_as_a_whole()
    {
        var options = new PkiOptions().WithLimits(["crl-validity-hours=24", "max-file-kb=512", "max-names=5", "external-crl-timeout-seconds=2"], out var error);
        Assert.Null(error);
        Assert.Equal(TimeSpan.FromHours(24), options!.CrlValidity);
        Assert.Equal(512 * 1024, options.MaxFileBytes);
        Assert.Equal(5, options.MaxNamesPerCertificate);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ExternalCrlTimeout);

        foreach (var name in PkiOptions.LimitNames)
        {
            Assert.NotNull(new PkiOptions().WithLimit(name, 7));
        }

        Assert.Null(new PkiOptions().WithLimits(["crl-validity-hours=0"], out error));
        Assert.Contains("crl-validity-hours", error, StringComparison.Ordinal);
        Assert.Null(new PkiOptions().WithLimits(["max-names=-1"], out error));
        Assert.Contains("NAME=NUMBER", error, StringComparison.Ordinal);
        Assert.Null(new PkiOptions().WithLimits(["max-names"], out error));
        Assert.Null(new PkiOptions().WithLimits(["nope=1"], out error));
        Assert.Contains("unknown PKI limit", error, StringComparison.Ordinal);
    }
}
