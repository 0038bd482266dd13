using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Postern.Pki;
using Postern.Store;

namespace Postern.UnitTests.Pki;

/// <summary>Real time, shifted by Offset (so certificates made "now" by other tools stay valid).</summary>
internal sealed class MutableClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

/// <summary>A real SQLite store in a temporary folder, two virtual servers (SMTP, IMAP), and a PkiService over them.</summary>
internal sealed class PkiFixture : IAsyncDisposable
{
    public const string HostName = "mail.example.com";

    private PkiFixture(string folder, IPosternStore store, PkiService pki, MutableClock clock)
    {
        Folder = folder;
        Store = store;
        Pki = pki;
        Clock = clock;
    }

    public string Folder { get; }

    public IPosternStore Store { get; }

    public PkiService Pki { get; }

    public MutableClock Clock { get; }

    public long SmtpId { get; private set; }

    public long ImapId { get; private set; }

    public static async Task<PkiFixture> CreateAsync(bool bootstrap = true, CaMode mode = CaMode.Enterprise)
    {
        var folder = Path.Combine(Path.GetTempPath(), "postern-pki-" + Guid.NewGuid().ToString("N"));
        var store = PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(folder));
        var clock = new MutableClock();
        var pki = new PkiService(store, new PkiOptions { TimeProvider = clock, InitialCaMode = mode });
        var fixture = new PkiFixture(folder, store, pki, clock);
        fixture.SmtpId = (await store.Configuration.SaveVirtualServerAsync(new VirtualServer { Name = "Default SMTP Virtual Server", Protocol = ServiceProtocol.Smtp }, default)).Value!.Id;
        fixture.ImapId = (await store.Configuration.SaveVirtualServerAsync(new VirtualServer { Name = "Default IMAP4 Virtual Server", Protocol = ServiceProtocol.Imap }, default)).Value!.Id;
        if (bootstrap)
        {
            var result = await pki.EnsureInitializedAsync(HostName, "Example Org", default);
            Assert.True(result.Succeeded, result.Error);
        }

        return fixture;
    }

    public async Task<long> AddVirtualServerAsync(string name, ServiceProtocol protocol) =>
        (await Store.Configuration.SaveVirtualServerAsync(new VirtualServer { Name = name, Protocol = protocol }, default)).Value!.Id;

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            Postern.Tests.TestStoreOptions.Drop(Folder);
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>An "external" CA (a commercial CA, or the root above a subordinate) made in the test with .NET's own classes.</summary>
internal sealed class ExternalCa : IDisposable
{
    public ExternalCa(string name = "External Test Root")
    {
        Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=External", Key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddYears(5));
    }

    public ECDsa Key { get; }

    public X509Certificate2 Root { get; }

    public byte[] RootPem => System.Text.Encoding.ASCII.GetBytes(PemEncoding.WriteString("CERTIFICATE", Root.RawData));

    /// <summary>Signs a PKCS#10 request the way a CA would, with the given EKU, validity and names (null: take the request's).</summary>
    /// <summary>A CRL of this root listing the given serial numbers (hex), valid for a day.</summary>
    public byte[] BuildCrl(params string[] revokedSerials)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var serial in revokedSerials)
        {
            builder.AddEntry(Convert.FromHexString(serial), DateTimeOffset.UtcNow.AddMinutes(-1), X509RevocationReason.KeyCompromise);
        }

        return builder.Build(Root, System.Numerics.BigInteger.One, DateTimeOffset.UtcNow.AddDays(1), HashAlgorithmName.SHA256, null, DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    public X509Certificate2 Sign(string csrPem, string? eku = "1.3.6.1.5.5.7.3.1", DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, string[]? dnsNames = null, bool ca = false,
        string? crlUrl = null)
    {
        var loaded = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        var request = new CertificateRequest(loaded.SubjectName, loaded.PublicKey, HashAlgorithmName.SHA256);
        if (ca)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        }
        else
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        }

        if (eku is not null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(eku)], false));
        }

        if (dnsNames is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in dnsNames)
            {
                san.AddDnsName(name);
            }

            request.CertificateExtensions.Add(san.Build());
        }
        else if (loaded.CertificateExtensions.FirstOrDefault(e => e.Oid?.Value == "2.5.29.17") is { } requested)
        {
            request.CertificateExtensions.Add(requested);
        }

        if (crlUrl is not null)
        {
            request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([crlUrl]));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        return request.Create(Root.SubjectName, X509SignatureGenerator.CreateForECDsa(Key), notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5), notAfter ?? DateTimeOffset.UtcNow.AddDays(90), serial);
    }

    public void Dispose()
    {
        Root.Dispose();
        Key.Dispose();
    }
}

internal static class OpenSsl
{
    public static bool Available { get; } = Find();

    public static (int ExitCode, string Output) Run(string arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("openssl", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(30_000);
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static bool Find()
    {
        try
        {
            return Run("version").ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
