// Stand-in for the optional mapbox-gl package when it is not installed (aliased by vite.config.ts):
// loading it fails with a message that says what to do.
throw new Error('mapbox-gl is not installed: run `npm install mapbox-gl` and rebuild the web client (npx vite build --config dashboard/web/vite.config.ts), or configure a MapLibre base map instead')
export {}
