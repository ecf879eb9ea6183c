// ESLint (flat config) for the dashboard's ES modules and the repository's Node scripts: the recommended rules,
// browser globals for api/static, Node globals for the rest. `make lint` runs it; vendored and installed code is
// not ours to lint. An .mjs file because package.json is not "type": "module" (tools/ has CommonJS scripts).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "api/static/vendor/", ".venv/", ".venv-*/", ".lock-venv/", ".build/", ".forge/", ".run/", "contracts/"] },
  js.configs.recommended,
  {
    files: ["api/static/**/*.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: globals.browser },
    // the dashboard stays split by view: no module over 400 lines, no function over 100
    rules: { "max-lines": ["error", 400], "max-lines-per-function": ["error", 100] },
  },
  {
    files: ["eslint.config.mjs"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: globals.node },
  },
  {
    files: ["tools/**/*.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "commonjs", globals: globals.node },
  },
];
