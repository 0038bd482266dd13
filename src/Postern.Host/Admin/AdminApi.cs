using Postern.Host.Serve;

namespace Postern.Host.Admin;

/// <summary>The one admin API (/api/v1) behind the CLI and the web console; every call carries the bearer token.</summary>
internal static class AdminApi
{
    public static void Map(WebApplication app, PosternServer server, AdminCredentials credentials)
    {
        // The largest legitimate body is a certificate file (serve --pki-limit max-file-kb, 256 KiB) in base64 and JSON.
        var maxBodyBytes = Math.Max(MinBodyBytes, server.Certificates.Pki.Options.MaxFileBytes * 2L);
        app.Use(async (context, next) =>
        {
            RestoreEncodedSlashes(context);
            // An unmatched path or method under /api/v1 needs the token too: without it, 404 and 405 would tell a
            // stranger which resources and methods exist.
            if (context.GetEndpoint()?.Metadata.GetMetadata<AdminEndpoint>() is not null
                || (context.Request.Path.StartsWithSegments("/api/v1", StringComparison.Ordinal) && IsUnmatched(context)))
            {
                // Here, before the body is read and bound (an endpoint filter runs after): a caller without the token
                // costs the server its headers, not the parsing of a JSON body of up to Kestrel's 30 MB.
                if (Refusal(context, credentials) is { } refusal)
                {
                    await refusal.ExecuteAsync(context).ConfigureAwait(false);
                    return;
                }

                if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                {
                    size.MaxRequestBodySize = maxBodyBytes;
                }
            }

            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
            {
                // Thrown by binding (RouteHandlerOptions.ThrowOnBadRequest): malformed JSON, a missing field, a body
                // over the bound, a type that is not JSON. Answered as every other refusal is, with the reason.
                await Error(Describe(ex), ex.StatusCode).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            // A refusal the framework answers with an empty body (no route, wrong method) says why too: the console
            // shows "error", and over HTTP/2 it has no status text to fall back on.
            if (context.Response.StatusCode >= 400 && !context.Response.HasStarted && context.Response.ContentType is null
                && !HttpMethods.IsHead(context.Request.Method) && context.Request.Path.StartsWithSegments("/api/v1", StringComparison.Ordinal))
            {
                var what = $"{context.Request.Method} {context.Request.Path}";
                var message = context.Response.StatusCode switch
                {
                    StatusCodes.Status404NotFound => $"no such API resource: {what}",
                    StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on {context.Request.Path}",
                    var status => $"{what}: {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}",
                };
                await Error(message, context.Response.StatusCode).ExecuteAsync(context).ConfigureAwait(false);
            }
        });
        var api = app.MapGroup("/api/v1").WithMetadata(new AdminEndpoint());

        DirectoryEndpoints.Map(api, server);
        VirtualServerEndpoints.Map(api, server);
        QueueEndpoints.Map(api, server);
        CertificateEndpoints.Map(api, server);
        RoutingEndpoints.Map(api, server);
        NewsEndpoints.Map(api, server);
        StatsEndpoints.Map(api, server);
        DkimEndpoints.Map(api, server);
        CertificateEndpoints.MapPublication(app, server);

        // The API's description (OpenAPI 3.1), without a token: it holds no data. docs/openapi.json is a copy of it.
        app.MapOpenApi("/api/{documentName}/openapi.json");
    }

    /// <summary>The OpenAPI document of /api/v1: its routes only (not the console, autoconfig or the CRL), bearer token.</summary>
    public static void DescribeDocument(Microsoft.AspNetCore.OpenApi.OpenApiOptions options)
    {
        options.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new Microsoft.OpenApi.OpenApiInfo
            {
                Title = "Postern admin API",
                Version = "v1",
                Description = "System Manager's one API: the CLI and the web console call it. Every call carries the token from the data folder's admin.json as a bearer credential, over HTTPS only.",
            };
            document.Servers = [];
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes = new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>
            {
                ["bearer"] = new Microsoft.OpenApi.OpenApiSecurityScheme { Type = Microsoft.OpenApi.SecuritySchemeType.Http, Scheme = "bearer", Description = "The token in admin.json" },
            };
            document.Security = [new Microsoft.OpenApi.OpenApiSecurityRequirement { [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("bearer", document)] = [] }];
            return Task.CompletedTask;
        });
    }

    /// <summary>No endpoint, or only the routing's own 405 endpoint (which carries no route metadata of ours).</summary>
    private static bool IsUnmatched(HttpContext context) =>
        context.GetEndpoint() is not { } endpoint || endpoint.DisplayName?.StartsWith("405 HTTP Method Not Supported", StringComparison.Ordinal) == true;

    /// <summary>Bound on an admin API request body, or twice the largest certificate file if that is more.</summary>
    public const long MinBodyBytes = 1024 * 1024;

    private static IResult? Refusal(HttpContext context, AdminCredentials credentials)
    {
        // Answers hold users, keys' PEMs and exported PFX files: no browser or proxy may keep a copy.
        context.Response.Headers.CacheControl = "no-store";

        // The token never travels in clear text: the API answers only over TLS.
        if (!context.Request.IsHttps)
        {
            return Results.Json(new ApiError("the admin API requires HTTPS"), statusCode: StatusCodes.Status403Forbidden);
        }

        var header = context.Request.Headers.Authorization.ToString();
        // RFC 9110 §11.1: the scheme name is case-insensitive.
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        if (credentials.Matches(token))
        {
            return null;
        }

        // RFC 9110 §11.6.1: a 401 MUST carry a challenge; RFC 6750 §3 gives the bearer scheme's.
        context.Response.Headers.WWWAuthenticate = token is null ? "Bearer realm=\"postern\"" : "Bearer realm=\"postern\", error=\"invalid_token\"";
        return Results.Json(new ApiError("missing or wrong admin token"), statusCode: StatusCodes.Status401Unauthorized);
    }

    /// <summary>
    /// Kestrel decodes the path except %2F, so that an encoded slash cannot split a segment: a name holding a slash (a
    /// virtual server "Sales/Support", the user a/b@example.com, '/' being atext in RFC 5322 §3.2.3) reaches a route
    /// value as "a%2Fb", and a literal "%2F" as well. Each such value is taken again from its raw segment, decoded once.
    /// </summary>
    private static void RestoreEncodedSlashes(HttpContext context)
    {
        if (context.GetEndpoint() is not RouteEndpoint endpoint
            || !context.Request.RouteValues.Values.Any(v => v is string s && s.Contains("%2F", StringComparison.OrdinalIgnoreCase))
            || context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget is not ['/', ..] raw)
        {
            return;
        }

        var segments = raw.Split('?', 2)[0].Split('/')[1..];
        var pattern = endpoint.RoutePattern.PathSegments;
        if (segments.Length != pattern.Count)
        {
            return;
        }

        for (var i = 0; i < pattern.Count; i++)
        {
            if (pattern[i].Parts is [Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter])
            {
                context.Request.RouteValues[parameter.Name] = Uri.UnescapeDataString(segments[i]);
            }
        }
    }

    /// <summary>The reason for a refused request body, with the JSON reader's own words (where, and what it expected).</summary>
    private static string Describe(BadHttpRequestException ex) => ex.InnerException switch
    {
        System.Text.Json.JsonException json => "the request body is not valid JSON for this call: " + json.Message,
        _ when ex.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal) => "this call takes a JSON body, and the request had none",
        _ => ex.Message,
    };

    public static IResult Error(string message, int status = StatusCodes.Status400BadRequest) => Results.Json(new ApiError(message), statusCode: status);

    public static IResult NotFound(string message) => Error(message, StatusCodes.Status404NotFound);
}

internal sealed record ApiError(string Error);

/// <summary>Marks the endpoints of /api/v1, which need the token.</summary>
internal sealed class AdminEndpoint;
