// The API reference (/api/docs): Swagger UI, vendored under static/vendor/swagger-ui-5.36.0,
// reading the app's own OpenAPI document. No online validator, no calls elsewhere.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("api-reference");
    if (!root || !window.SwaggerUIBundle) { return; }
    window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      domNode: root,
      deepLinking: true,
      validatorUrl: null,
      defaultModelsExpandDepth: 0,
      docExpansion: "list",
      tryItOutEnabled: false,
      persistAuthorization: false
    });
  });
})();
