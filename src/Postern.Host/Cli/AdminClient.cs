using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Postern.Host.Admin;

namespace Postern.Host.Cli;

/// <summary>An error the CLI prints as one line before exiting non-zero.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>The CLI's side of the admin API: address, token and the root to trust all come from the data folder.</summary>
internal sealed class AdminClient : IDisposable
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        WriteIndented = true,
    };

    private readonly HttpClient _http;

    private AdminClient(AdminCredentials credentials)
    {
        Credentials = credentials;

        // The organization's CA, and the roots above or before it that its certificates may chain to (a subordinate CA).
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPem(credentials.RootCertificatePem);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Trust exactly the organization's roots from admin.json for the admin endpoint, nothing else.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    foreach (var anchor in trusted)
                    {
                        (anchor.SubjectName.RawData.AsSpan().SequenceEqual(anchor.IssuerName.RawData) ? chain.ChainPolicy.CustomTrustStore : chain.ChainPolicy.ExtraStore).Add(anchor);
                    }

                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri(credentials.Url.TrimEnd('/') + "/api/v1/"), Timeout = TimeSpan.FromSeconds(100) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials.Token);
    }

    public AdminCredentials Credentials { get; }

    public static AdminClient Connect(string dataDirectory)
    {
        AdminCredentials? loaded;
        try
        {
            loaded = AdminCredentials.Load(dataDirectory);
        }
        catch (InvalidDataException ex)
        {
            throw new CliException(ex.Message);
        }

        var credentials = loaded
            ?? throw new CliException($"no running server found for data folder '{dataDirectory}' ({AdminCredentials.PathIn(dataDirectory)} is missing); start it with 'postern serve --data {dataDirectory}'");
        return new AdminClient(credentials);
    }

    public Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, ct);

    public Task<T> PostAsync<T>(string path, object? body, CancellationToken ct) => SendAsync<T>(HttpMethod.Post, path, body, ct);

    public Task<T> PatchAsync<T>(string path, object? body, CancellationToken ct) => SendAsync<T>(HttpMethod.Patch, path, body, ct);

    public Task<T> PutAsync<T>(string path, object? body, CancellationToken ct) => SendAsync<T>(HttpMethod.Put, path, body, ct);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken ct) => SendAsync<JsonElement>(HttpMethod.Delete, path, null, ct);

    public async Task<byte[]> GetBytesAsync(string path, CancellationToken ct)
    {
        using var response = await SendRawAsync(HttpMethod.Get, path, null, ct).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
    }

    public async Task<byte[]> PostRawAsync(string path, object body, CancellationToken ct)
    {
        using var response = await SendRawAsync(HttpMethod.Post, path, body, ct).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
    }

    /// <summary>A name or address as one path segment; an empty one would name the collection instead.</summary>
    public static string Escape(string segment) =>
        string.IsNullOrWhiteSpace(segment) ? throw new CliException("the name or address must not be empty") : Uri.EscapeDataString(segment);

    public void Dispose() => _http.Dispose();

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, body, ct).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength == 0 || response.StatusCode == System.Net.HttpStatusCode.NoContent)
        {
            return default!;
        }

        return (await response.Content.ReadFromJsonAsync<T>(JsonOptions, ct).ConfigureAwait(false))!;
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        var length = 0;
        if (body is not null)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), JsonOptions);
            length = json.Length;
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };

            // A large body (a certificate file) waits for the server's go-ahead: one over its bound is refused with the
            // reason (413) before it is sent, instead of the connection closing under the client while it writes.
            request.Headers.ExpectContinue = json.Length > 64 * 1024;
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (length > AdminApi.MinBodyBytes)
        {
            // The server answers 413 and closes while a body over its bound is still being sent.
            throw new CliException($"the server did not take the request: at {length} bytes it is larger than it accepts ({ex.Message})");
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the server at {Credentials.Url}: {ex.Message} (is 'postern serve' running?)");
        }

        if (!response.IsSuccessStatusCode)
        {
            string message;
            try
            {
                var error = await response.Content.ReadFromJsonAsync<ApiError>(JsonOptions, ct).ConfigureAwait(false);
                message = error?.Error ?? response.ReasonPhrase ?? "request failed";
            }
            catch (JsonException)
            {
                message = $"{(int)response.StatusCode} {response.ReasonPhrase}";
            }

            response.Dispose();
            throw new CliException(message);
        }

        return response;
    }
}
