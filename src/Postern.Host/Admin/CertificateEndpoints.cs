using System.Security.Cryptography.X509Certificates;
using System.Text;
using Postern.Host.Serve;
using Postern.Pki;
using Postern.Store;

namespace Postern.Host.Admin;

/// <summary>The certificate wizard per virtual server, the organization's CA, trusted roots and user-certificate mappings.</summary>
internal static class CertificateEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var pki = server.Certificates.Pki;
        MapWizard(api, server, pki);
        MapCa(api, server, pki);

        api.MapGet("/certificates", async (CancellationToken ct) => Results.Ok(await pki.ListCertificatesAsync(ct)));
        api.MapGet("/certificates/expiring", async (int? days, CancellationToken ct) => Results.Ok(await pki.CheckExpiryAsync(days ?? 30, ct)));
        api.MapDelete("/certificates/{thumbprint}", async (string thumbprint, CancellationToken ct) =>
        {
            var deleted = await pki.DeleteCertificateAsync(thumbprint, ct);
            await server.Certificates.RefreshRootAsync(ct);
            return Outcome(deleted);
        });
        api.MapPost("/certificates/{thumbprint}/export", async (string thumbprint, PasswordRequest request, CancellationToken ct) =>
        {
            if (string.IsNullOrEmpty(request.Password))
            {
                return AdminApi.Error("a password is required to export a private key");
            }

            var exported = await pki.ExportPfxAsync(thumbprint, request.Password, ct);
            return exported.Succeeded ? Results.Ok(new FileContent(Convert.ToBase64String(exported.Value!))) : AdminApi.Error(exported.Error!);
        });

        api.MapGet("/certificate-mappings", async (CancellationToken ct) =>
            Results.Ok((await pki.ListClientMappingsAsync(ct)).Select(m => new MappingView(m.Id, m.Thumbprint, m.Issuer, m.SerialNumber, m.AccountAddress))));
        api.MapPost("/certificate-mappings", async (MappingRequest request, CancellationToken ct) =>
        {
            if (await server.Store.Directory.FindAccountAsync(request.Address, ct) is null)
            {
                return AdminApi.NotFound($"no such user: {request.Address}");
            }

            return Outcome(await pki.MapClientCertificateAsync(request.Address, request.Thumbprint, request.Issuer, request.SerialNumber, ct));
        });
        api.MapDelete("/certificate-mappings/{id:long}", async (long id, CancellationToken ct) => Outcome(await pki.RemoveClientMappingAsync(id, ct)));
    }

    private static void MapWizard(RouteGroupBuilder api, PosternServer server, PkiService pki)
    {
        var wizard = api.MapGroup("/virtual-servers/{name}/certificate");

        wizard.MapGet("", async (string name, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs => Results.Ok(await pki.GetWizardStatusAsync(vs.Id, ct)), ct));

        wizard.MapGet("/audit", async (string name, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs => Results.Ok(await pki.ListWizardAuditAsync(vs.Id, ct)), ct));

        wizard.MapPost("/request", async (string name, WizardRequest request, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs =>
            {
                var form = request.ToForm();
                if (form is null)
                {
                    return AdminApi.Error(request.KeyError ?? "a common name is required");
                }

                if (request.Online)
                {
                    var online = await pki.SubmitRequestToOnlineCaAsync(vs.Id, form, ct);
                    return online.Succeeded ? Results.Ok(online.Value) : AdminApi.Error(online.Error!);
                }

                var prepared = await pki.PrepareRequestAsync(vs.Id, form, ct);
                return prepared.Succeeded ? Results.Ok(prepared.Value) : AdminApi.Error(prepared.Error!);
            }, ct));

        wizard.MapPost("/install", async (string name, FileContent file, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs =>
            {
                if (!TryDecode(file.Base64, out var bytes))
                {
                    return AdminApi.Error(string.IsNullOrEmpty(file.Base64) ? "the certificate file is empty" : "the certificate file is not valid base64");
                }

                var installed = await pki.ProcessPendingRequestAsync(vs.Id, bytes, ct);
                return installed.Succeeded ? Results.Ok(installed.Value) : AdminApi.Error(installed.Error!);
            }, ct));

        wizard.MapDelete("/pending", async (string name, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs => Outcome(await pki.DeletePendingRequestAsync(vs.Id, ct)), ct));

        wizard.MapPost("/assign", async (string name, AssignRequest request, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs =>
            {
                var assigned = await pki.AssignCertificateAsync(vs.Id, request.Thumbprint, request.MakeDefault, ct);
                return assigned.Succeeded ? Results.Ok(assigned.Value) : AdminApi.Error(assigned.Error!);
            }, ct));

        wizard.MapDelete("", async (string name, string? thumbprint, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs => Outcome(await pki.RemoveCertificateAsync(vs.Id, thumbprint, ct)), ct));

        wizard.MapPost("/renew", async (string name, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs =>
            {
                var renewed = await pki.RenewCertificateAsync(vs.Id, ct);
                return renewed.Succeeded ? Results.Ok(renewed.Value) : AdminApi.Error(renewed.Error!);
            }, ct));

        wizard.MapPost("/import", async (string name, ImportRequest request, CancellationToken ct) =>
            await WithVirtualServer(server, name, async vs =>
            {
                if (!TryDecode(request.Base64, out var bytes))
                {
                    return AdminApi.Error(string.IsNullOrEmpty(request.Base64) ? "the PFX file is empty" : "the PFX file is not valid base64");
                }

                var imported = await pki.ImportPfxAsync(vs.Id, bytes, request.Password, request.FriendlyName, ct);
                return imported.Succeeded ? Results.Ok(imported.Value) : AdminApi.Error(imported.Error!);
            }, ct));
    }

    private static void MapCa(RouteGroupBuilder api, PosternServer server, PkiService pki)
    {
        api.MapGet("/ca", async (CancellationToken ct) => await pki.GetCaInfoAsync(ct) is { } info ? Results.Ok(info) : AdminApi.NotFound("there is no CA"));
        api.MapPut("/ca/mode", async (CaModeRequest request, CancellationToken ct) => Outcome(await pki.SetCaModeAsync(request.Mode, ct)));
        api.MapGet("/ca/root.pem", async (CancellationToken ct) =>
            await pki.ExportRootPemAsync(ct) is { } pem ? Results.Text(pem, "application/x-pem-file") : AdminApi.NotFound("there is no CA certificate"));
        api.MapGet("/ca/chain.pem", async (CancellationToken ct) =>
            await pki.ExportCaChainPemAsync(ct) is { } pem ? Results.Text(pem, "application/x-pem-file") : AdminApi.NotFound("there is no CA certificate"));
        api.MapGet("/ca/trusted-roots", async (CancellationToken ct) => Results.Ok(await pki.ListTrustedRootPemsAsync(ct)));
        api.MapPost("/ca/trusted-roots", async (ImportRequest request, CancellationToken ct) =>
        {
            if (!TryDecode(request.Base64, out var bytes))
            {
                return AdminApi.Error(string.IsNullOrEmpty(request.Base64) ? "the root certificate file is empty" : "the root certificate file is not valid base64");
            }

            var imported = await pki.ImportTrustedRootAsync(bytes, request.FriendlyName, ct);
            if (!imported.Succeeded)
            {
                return AdminApi.Error(imported.Error!);
            }

            await server.Certificates.RefreshRootAsync(ct);
            return Results.Ok(imported.Value);
        });
        api.MapGet("/ca/issued", async (CancellationToken ct) => Results.Ok(await pki.ListIssuedAsync(ct)));
        api.MapPost("/ca/issue", async (IssueRequest request, CancellationToken ct) =>
        {
            KeyAlgorithm? key = null;
            if (request.Key is not null)
            {
                if (!PkiService.TryParseKeyAlgorithm(request.Key, out var parsed))
                {
                    return AdminApi.Error($"unknown key type '{request.Key}' (rsa2048, rsa3072, rsa4096, p256, p384)");
                }

                key = parsed;
            }

            var issued = request.Email is not null
                ? await pki.IssueClientCertificateAsync(request.Email, request.DisplayName, key, ct)
                : await pki.IssueServerCertificateAsync(request.Names ?? [], request.FriendlyName, key, ct);
            return issued.Succeeded ? Results.Ok(issued.Value) : AdminApi.Error(issued.Error!);
        });
        api.MapPost("/ca/requests", async (SubmitRequest request, CancellationToken ct) =>
        {
            var submitted = await pki.SubmitRequestAsync(request.Pem, request.Client, request.Requester, ct);
            return submitted.Succeeded ? Results.Ok(submitted.Value) : AdminApi.Error(submitted.Error!);
        });
        api.MapGet("/ca/requests", async (CancellationToken ct) => Results.Ok(await pki.ListCaRequestsAsync(ct)));
        api.MapGet("/ca/requests/{id:long}", async (long id, CancellationToken ct) =>
            await pki.GetCaRequestStatusAsync(id, ct) is { } status ? Results.Ok(status) : AdminApi.NotFound($"there is no request {id}"));
        api.MapPost("/ca/requests/{id:long}/approve", async (long id, CancellationToken ct) =>
        {
            var approved = await pki.ApproveCaRequestAsync(id, ct);
            return approved.Succeeded ? Results.Ok(approved.Value) : AdminApi.Error(approved.Error!);
        });
        api.MapPost("/ca/requests/{id:long}/deny", async (long id, DenyRequest request, CancellationToken ct) => Outcome(await pki.DenyCaRequestAsync(id, request.Reason ?? "denied", ct)));
        api.MapPost("/ca/revoke", async (RevokeRequest request, CancellationToken ct) =>
        {
            if (!Enum.TryParse<X509RevocationReason>(request.Reason ?? "Unspecified", ignoreCase: true, out var reason))
            {
                return AdminApi.Error($"unknown revocation reason '{request.Reason}' ({string.Join(", ", Enum.GetNames<X509RevocationReason>())})");
            }

            return Outcome(await pki.RevokeAsync(request.SerialNumber, reason, ct));
        });
        api.MapPost("/ca/crl", async (CancellationToken ct) =>
        {
            var crl = await pki.BuildCrlAsync(ct);
            return crl.Succeeded ? Results.Ok(new FileContent(Convert.ToBase64String(crl.Value!))) : AdminApi.Error(crl.Error!);
        });
        api.MapPost("/ca/subordinate/request", async (SubordinateRequest request, CancellationToken ct) =>
        {
            KeyAlgorithm? key = null;
            if (request.Key is not null)
            {
                if (!PkiService.TryParseKeyAlgorithm(request.Key, out var parsed))
                {
                    return AdminApi.Error($"unknown key type '{request.Key}' (rsa2048, rsa3072, rsa4096, p256, p384)");
                }

                key = parsed;
            }

            var csr = await pki.CreateSubordinateCaRequestAsync(request.CommonName, request.Organization, request.Country, key, ct);
            return csr.Succeeded ? Results.Text(csr.Value!, "application/pkcs10") : AdminApi.Error(csr.Error!);
        });
        api.MapPost("/ca/subordinate/install", async (FileContent file, CancellationToken ct) =>
        {
            if (!TryDecode(file.Base64, out var bytes))
            {
                return AdminApi.Error(string.IsNullOrEmpty(file.Base64) ? "the CA certificate file is empty" : "the CA certificate file is not valid base64");
            }

            var installed = await pki.InstallSubordinateCaCertificateAsync(bytes, ct);
            if (!installed.Succeeded)
            {
                return AdminApi.Error(installed.Error!);
            }

            await server.Certificates.RefreshRootAsync(ct);
            return Results.Ok(installed.Value);
        });
    }

    /// <summary>The published CRL and CA certificate (CDP and AIA), over plain HTTP, no token: relying parties fetch them.</summary>
    public static void MapPublication(Microsoft.AspNetCore.Builder.WebApplication app, PosternServer server)
    {
        app.MapGet("/pki/ca.crl", async (CancellationToken ct) =>
        {
            var crl = await server.Certificates.Pki.GetCurrentCrlAsync(ct);
            return crl.Succeeded ? Results.Bytes(crl.Value!, "application/pkix-crl") : Results.NotFound();
        });
        app.MapGet("/pki/ca.crt", async (CancellationToken ct) =>
            await server.Certificates.Pki.ExportCaCertificateDerAsync(ct) is { } der ? Results.Bytes(der, "application/pkix-cert") : Results.NotFound());

        // Each CA's own CDP and AIA, as its certificates name them (ca.crl and ca.crt above follow the current CA).
        app.MapGet("/pki/{name}.crl", async (string name, CancellationToken ct) =>
            await server.Certificates.Pki.GetPublishedCrlAsync(name, ct) is { Succeeded: true } crl ? Results.Bytes(crl.Value!, "application/pkix-crl") : Results.NotFound());
        app.MapGet("/pki/{name}.crt", async (string name, CancellationToken ct) =>
            await server.Certificates.Pki.GetPublishedCaCertificateAsync(name, ct) is { } der ? Results.Bytes(der, "application/pkix-cert") : Results.NotFound());
    }

    private static async Task<IResult> WithVirtualServer(PosternServer server, string name, Func<VirtualServer, Task<IResult>> action, CancellationToken ct)
    {
        var vs = await VirtualServerEndpoints.FindAsync(server.Store.Configuration, name, ct);
        return vs is null ? AdminApi.NotFound($"no such virtual server: {name}") : await action(vs);
    }

    private static IResult Outcome(PkiResult result) => result.Succeeded ? Results.NoContent() : AdminApi.Error(result.Error!);

    private static bool TryDecode(string? base64, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(base64))
        {
            return false;
        }

        try
        {
            bytes = Convert.FromBase64String(base64);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

internal sealed record FileContent(string Base64)
{
    public static FileContent FromText(string text) => new(Convert.ToBase64String(Encoding.UTF8.GetBytes(text)));
}

internal sealed record WizardRequest(
    bool Online,
    string CommonName,
    string? FriendlyName = null,
    string? Key = null,
    int? Bits = null,
    string? Organization = null,
    string? OrganizationalUnit = null,
    IReadOnlyList<string>? AdditionalNames = null,
    string? Country = null,
    string? State = null,
    string? City = null)
{
    public string? KeyError { get; private set; }

    public CertificateRequestForm? ToForm()
    {
        KeyAlgorithm? key = null;
        var bitsText = Bits is { } bits ? "rsa" + bits.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        if (Key is not null && bitsText is not null && !string.Equals(Key.Trim(), bitsText, StringComparison.OrdinalIgnoreCase))
        {
            // Both chosen and different: neither may silently win over the administrator's other choice.
            KeyError = $"key '{Key}' and --bits {Bits} disagree: give one of them (--bits is the RSA bit length, --key also offers p256 and p384)";
            return null;
        }

        var keyText = Key ?? bitsText;
        if (keyText is not null)
        {
            if (!PkiService.TryParseKeyAlgorithm(keyText, out var parsed))
            {
                KeyError = $"unknown key '{keyText}': use rsa2048, rsa3072, rsa4096, p256 or p384 (--bits 2048|3072|4096)";
                return null;
            }

            key = parsed;
        }

        if (string.IsNullOrWhiteSpace(CommonName))
        {
            return null;
        }

        return new CertificateRequestForm
        {
            CommonName = CommonName,
            FriendlyName = FriendlyName,
            KeyAlgorithm = key,
            Organization = Organization,
            OrganizationalUnit = OrganizationalUnit,
            AdditionalNames = AdditionalNames ?? [],
            Country = Country,
            State = State,
            City = City,
        };
    }
}

internal sealed record AssignRequest(string Thumbprint, bool MakeDefault = true);

internal sealed record ImportRequest(string Base64, string? Password = null, string? FriendlyName = null);

internal sealed record CaModeRequest(CaMode Mode);

internal sealed record IssueRequest(IReadOnlyList<string>? Names = null, string? Email = null, string? DisplayName = null, string? FriendlyName = null, string? Key = null);

internal sealed record SubmitRequest(string Pem, bool Client = false, string? Requester = null);

internal sealed record DenyRequest(string? Reason = null);

internal sealed record RevokeRequest(string SerialNumber, string? Reason = null);

internal sealed record SubordinateRequest(string CommonName, string Organization, string? Country = null, string? Key = null);

internal sealed record MappingRequest(string Address, string? Thumbprint = null, string? Issuer = null, string? SerialNumber = null);

internal sealed record MappingView(long Id, string? Thumbprint, string? Issuer, string? SerialNumber, string Address);
