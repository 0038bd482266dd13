using Postern.Host.Serve;
using Postern.Store;

namespace Postern.Host.Admin;

/// <summary>The System Manager web console: static pages that talk only to the admin API.</summary>
internal static class WebConsole
{
    public static void Map(WebApplication app, PosternServer server)
    {
        var assembly = typeof(WebConsole).Assembly;
        app.MapGet("/", (HttpRequest request) => Page(server, request, assembly, "index.html", "text/html; charset=utf-8"));
        app.MapGet("/console.js", (HttpRequest request) => Page(server, request, assembly, "console.js", "text/javascript; charset=utf-8"));

        // Browsers ask for it on their own; no icon, and no 404 in the console's error list either.
        app.MapGet("/favicon.ico", () => Results.NoContent());
    }

    private static IResult Page(PosternServer server, HttpRequest request, System.Reflection.Assembly assembly, string name, string contentType)
    {
        // The console sends the admin token with every call: served in clear text (the HTTP virtual server's port 80,
        // kept for the CRL) it would send it in clear before the API refused. Go to the TLS binding instead.
        if (!request.IsHttps)
        {
            return server.HttpListeners.FirstOrDefault(l => l.Mode == BindingMode.ImplicitTls && l.Listening) is { } tls
                ? Results.Redirect($"https://{request.Host.Host}:{tls.Port}/", permanent: false, preserveMethod: true)
                : AdminApi.Error("the console requires HTTPS", StatusCodes.Status403Forbidden);
        }

        var stream = assembly.GetManifestResourceStream("Postern.Host.Console." + name);
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }
}
