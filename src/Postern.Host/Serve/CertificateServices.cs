using System.Security.Cryptography.X509Certificates;
using Postern.Pki;
using Postern.Store;

namespace Postern.Host.Serve;

/// <summary>The PKI as the running server uses it: first-start bootstrap, the TLS certificate selector, client-certificate logons, expiry watch.</summary>
internal sealed class CertificateServices : IAsyncDisposable
{
    private const string WarningsSentSetting = "pki.expiry-warnings-sent";

    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly string _hostName;
    private readonly string _organization;
    private Task? _expiryWatch;

    private CertificateServices(PkiService pki, string rootPem, string hostName, string organization, ILogger logger)
    {
        Pki = pki;
        RootPem = rootPem;
        _hostName = hostName;
        _organization = organization;
        _logger = logger;
    }

    public PkiService Pki { get; }

    public IServerCertificateSelector Selector => Pki.Selector;

    /// <summary>The organization's CA certificate, what clients are told to trust.</summary>
    public string RootPem { get; private set; }

    /// <summary>Days before expiry from which warnings are logged and mailed to the postmaster.</summary>
    public int WarningDays { get; private init; } = 30;

    /// <summary>Time between two runs of the expiry watch.</summary>
    public TimeSpan CheckInterval { get; private init; } = TimeSpan.FromHours(6);

    public static async Task<CertificateServices> StartAsync(IPosternStore store, string hostName, string organization, int portOffset, int warningDays, TimeSpan checkInterval,
        IReadOnlyList<string> pkiLimits, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        // The CRL and CA certificate are published over plain HTTP (a CRL fetch must not depend on TLS),
        // on the HTTP virtual server's port 80 binding.
        var crlPort = 80 + portOffset;
        var options = new PkiOptions { PublicBaseUrl = crlPort == 80 ? "http://{hostName}/pki/" : $"http://{{hostName}}:{crlPort}/pki/" }
            .WithLimits(pkiLimits, out var refusal) ?? throw new InvalidOperationException("--pki-limit: " + refusal);
        var pki = new PkiService(store, options, loggerFactory.CreateLogger<PkiService>());
        var bootstrap = await pki.EnsureInitializedAsync(hostName, organization, cancellationToken).ConfigureAwait(false);
        if (!bootstrap.Succeeded)
        {
            throw new InvalidOperationException("cannot set up the organization's certificates: " + bootstrap.Error);
        }

        await pki.ReloadAsync(cancellationToken).ConfigureAwait(false);
        var rootPem = await pki.ExportRootPemAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("the CA has no certificate");
        var services = new CertificateServices(pki, rootPem, hostName, organization, loggerFactory.CreateLogger<CertificateServices>())
        {
            WarningDays = warningDays,
            CheckInterval = checkInterval,
        };
        services._expiryWatch = Task.Run(() => services.WatchExpiryAsync(store, services._stop.Token), CancellationToken.None);
        return services;
    }

    /// <summary>Gives a new virtual server the server certificate (the bootstrap assigns it to every server without one).</summary>
    public async Task AssignDefaultAsync(long virtualServerId, CancellationToken cancellationToken)
    {
        _ = virtualServerId;
        await Pki.EnsureInitializedAsync(_hostName, _organization, cancellationToken).ConfigureAwait(false);
        await Pki.ReloadAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called after the CA or the trusted roots changed (serve rewrites admin.json, which the CLI trusts).</summary>
    public Func<CancellationToken, Task>? RootsChanged { get; set; }

    public async Task RefreshRootAsync(CancellationToken cancellationToken)
    {
        RootPem = await Pki.ExportRootPemAsync(cancellationToken).ConfigureAwait(false) ?? RootPem;
        if (RootsChanged is { } changed)
        {
            await changed(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<string?> ResolveClientCertificateAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var resolution = await Pki.ResolveClientCertificateDetailedAsync(certificate, null, cancellationToken).ConfigureAwait(false);
        if (resolution.AccountAddress is null)
        {
            _logger.CertificateLogonRefused(certificate.Subject, resolution.Error);
        }

        return resolution.AccountAddress;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_expiryWatch is not null)
        {
            await _expiryWatch.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>Renews what the built-in CA issued before it expires, and warns (log and postmaster mail) about the rest.</summary>
    private async Task WatchExpiryAsync(IPosternStore store, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // One node of those sharing a store runs a pass at a time; the others skip theirs. A pass reads everything
                // afresh, so what one node renewed another does not renew again.
                await using var turn = await store.Database.TryLockAsync(NodeTask.CertificateWatch, cancellationToken).ConfigureAwait(false);
                if (turn is not null)
                {
                    await WatchPassAsync(store, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.ExpiryCheckFailed(ex);
            }

            try
            {
                await Task.Delay(CheckInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WatchPassAsync(IPosternStore store, CancellationToken cancellationToken)
    {
        foreach (var renewal in await Pki.AutoRenewAsync(cancellationToken).ConfigureAwait(false))
        {
            if (renewal.Error is null)
            {
                _logger.CertificateRenewed(renewal.OldThumbprint, renewal.NewThumbprint, renewal.VirtualServerIds.Count);
            }
            else
            {
                _logger.CertificateRenewalFailed(renewal.OldThumbprint, renewal.Error);
            }
        }

        var report = await Pki.CheckExpiryAsync(WarningDays, cancellationToken).ConfigureAwait(false);

        // The postmaster is mailed once per certificate and state (expiring, expired), whichever node runs the pass and
        // across restarts: the warnings sent are kept in the store.
        var sent = (await store.Configuration.GetSettingAsync(WarningsSentSetting, cancellationToken).ConfigureAwait(false) ?? "")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var current = new List<string>();
        var lines = new List<string>();
        foreach (var certificate in report.Certificates)
        {
            var text = certificate.Expired
                ? $"Certificate \"{certificate.FriendlyName}\" ({certificate.Subject}, {certificate.Thumbprint}) EXPIRED on {certificate.NotAfter:u}."
                : $"Certificate \"{certificate.FriendlyName}\" ({certificate.Subject}, {certificate.Thumbprint}) expires on {certificate.NotAfter:u}.";
            _logger.CertificateExpiring(text);
            var key = certificate.Thumbprint + (certificate.Expired ? ":expired" : ":expiring");
            current.Add(key);
            if (!sent.Contains(key))
            {
                lines.Add(text);
            }
        }

        if (report.CrlNeedsRefresh)
        {
            await Pki.GetCurrentCrlAsync(cancellationToken).ConfigureAwait(false);
        }

        if (lines.Count > 0)
        {
            await MailPostmasterAsync(store, lines, cancellationToken).ConfigureAwait(false);
        }

        // Only what the report still names is kept, so the list stays as short as the report.
        var kept = string.Join(' ', current.Distinct(StringComparer.Ordinal));
        if (!sent.SetEquals(current))
        {
            await store.Configuration.SetSettingAsync(WarningsSentSetting, kept, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task MailPostmasterAsync(IPosternStore store, IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        var postmaster = await store.Configuration.GetSettingAsync(SettingKeys.Postmaster, cancellationToken).ConfigureAwait(false);
        var account = postmaster is null ? null : await store.Directory.FindAccountAsync(postmaster, cancellationToken).ConfigureAwait(false);
        var inbox = account is null ? null : await store.Mail.GetMailboxAsync(account.Id, "INBOX", cancellationToken).ConfigureAwait(false);
        if (inbox is null)
        {
            return;
        }

        var message = new MimeKit.MimeMessage();
        message.From.Add(new MimeKit.MailboxAddress("Postern", "postmaster@" + _hostName));
        message.To.Add(MimeKit.MailboxAddress.Parse(account!.Address));
        message.Subject = "Postern: certificates expiring soon";
        message.Body = new MimeKit.TextPart("plain") { Text = string.Join("\r\n", lines) + "\r\n\r\nRenew them with 'postern cert renew' or the certificate wizard.\r\n" };
        using var buffer = new MemoryStream();
        await message.WriteToAsync(buffer, cancellationToken).ConfigureAwait(false);
        await store.Mail.AcceptAsync(buffer.ToArray(), [inbox.Id], null, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
    }
}
