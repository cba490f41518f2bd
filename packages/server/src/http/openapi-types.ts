/**
 * Generated from openapi.yaml by scripts/generate-openapi-types.ts (openapi-typescript, then
 * `requestDefaults` at the end); do not edit. Regenerate with `npm run generate:openapi-types -w packages/server`.
 * test/http/openapi-types.test.ts fails while this file differs from what openapi.yaml gives.
 */

export interface paths {
    "/generate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Generate an image from the default model (DEFAULT_MODEL, else the only model)
         * @description Same parameters and responses as `GET /v1/models/{model}/generate`.
         */
        get: operations["generateDefault"];
        put?: never;
        /** Generate from the default model with a JSON body (explicit latents allowed) */
        post: operations["generateDefaultPost"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every model found in MODELS_DIR with its manifest, status and execution provider */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One model's manifest, status, provider, and the reason if unavailable */
        get: operations["getModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}/generate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Generate an image (or an n-image grid, or an attention overlay or panel)
         * @description `n` > 1 returns one grid image: samples seed, seed+1, ..., seed+n-1 (mod 2^32) in row-major order,
         *     ceil(sqrt(n)) columns, 2 px white gaps, composed at the model's native size and then scaled as a whole by size / native size.
         *     `attention=overlay` blends each query's attention heat map over the image and marks the query
         *     points; `attention=panel` returns the paper's Figure 1 layout (image with query dots, then one
         *     heat map per query). Query points are pixels of the model's native image (0..size-1).
         *
         *     `HEAD` (on this route, `/generate`, the version route and `interpolate`) answers the status and headers
         *     the GET would, without running inference and without Content-Length. `If-None-Match` (`*` or the
         *     ETag) is answered 304 only for GET and HEAD with a `seed`: a server-chosen seed is a new draw each time,
         *     and a POST's answer is computed from its body, so neither has a current representation to match
         *     (RFC 9110 13.1.2) and both generate as if the header were absent.
         *
         *     A request with a `seed` (GET or POST) is answered from the server's response cache when the same
         *     image (same ETag) was made before (`X-Cache: hit`, no inference); concurrent identical requests share
         *     one generation. A server-chosen seed or explicit `z` bypasses the cache (`X-Cache: bypass`).
         */
        get: operations["generate"];
        put?: never;
        /** Generate with a JSON body; `z` gives explicit latents */
        post: operations["generatePost"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}/versions/{version}/generate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Generate with one specific version of the model (same parameters and answers as the plain route) */
        get: operations["generateVersion"];
        put?: never;
        /** Generate with one specific version, JSON body */
        post: operations["generateVersionPost"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/repository/index": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Every model version in MODELS_DIR and loaded, with its state */
        post: operations["repositoryIndex"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/repository/models/{model}/load": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * (Re)read the model's directory and bring up the versions its policy selects, without downtime
         * @description Answers when the selected versions are ready (or failed). 422 LOAD_FAILED names each failed version's
         *     reason; the versions that were serving keep serving, and the reason stays in `GET /v1/models/{model}`.
         *     `model` is the model's name or the name of its directory in the repository (they differ in the flat
         *     layout); both reach the same model.
         */
        post: operations["repositoryLoad"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/repository/models/{model}/unload": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop serving the model; its in-flight and queued requests finish first, then it answers 404 UNKNOWN_MODEL */
        post: operations["repositoryUnload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}/samples": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stream many images as NDJSON, for pipelines
         * @description Images for every (seed, class) pair: seeds from `seeds`, or `count` seeds from `start_seed`
         *     (start_seed, start_seed+1, ...); classes from `classes` (a list) or `class` (one). Order: for each seed,
         *     each class in the order given. One JSON object per line:
         *     `{"index", "seed", "class", "class_index", "format", "data"}` with `data` the base64 image.
         *     Work is generated a batch at a time and written as the client reads, so memory stays flat in the
         *     count; the total is capped by MAX_STREAM_SAMPLES. Its batches wait in the model's bulk lane
         *     (PRIORITY_LANES): interactive requests (generate, interpolate, v2 infer) go ahead of them, while every batch keeps at least
         *     BULK_MIN_SHARE of its rows for the stream, and streams hold at most half the queue. A full queue
         *     (or a full bulk lane) refuses a new stream (503 QUEUE_FULL); once the stream has started, a batch
         *     that meets a queue filled by other clients waits for room (up to REQUEST_TIMEOUT_MS). A failure after the first line ends the stream with a final line
         *     `{"error": {...}, "request_id", "next_index"}` (SampleErrorLine), `next_index` being the first sample
         *     not delivered. A client that takes no bytes for WRITE_IDLE_TIMEOUT_MS is cut (connection closed).
         */
        post: operations["samples"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}/interpolate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A latent interpolation strip between two seeds (one image, `steps` tiles in a row)
         * @description One image: `steps` tiles in a single row with 2 px white gaps, composed at the model's native size and
         *     then scaled as a whole by size / native size. Tile i (i = 0 .. steps-1) is the image of
         *     z = interp(z_from, z_to, t) with t = i / (steps - 1), where z_from and z_to are the latents of seeds
         *     `from` and `to` (with `truncation` applied to both, README "Seeds"). The first and last tiles are
         *     exactly the single images of `from` and `to`. Arithmetic is in double precision, each z rounded to float32:
         *
         *     - `lerp`: z(t) = (1 - t) z_from + t z_to
         *     - `slerp` (default): omega = acos(clamp(<z_from, z_to> / (|z_from| |z_to|), -1, 1)),
         *       z(t) = sin((1 - t) omega) / sin(omega) z_from + sin(t omega) / sin(omega) z_to;
         *       falls back to `lerp` when sin(omega) < 1e-6 or a latent is zero.
         *
         *     Responses are cacheable like seeded `generate` responses (ETag, immutable), and are kept in the
         *     server's response cache like them (`X-Cache`).
         */
        get: operations["interpolate"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness; answers while the process runs, whatever the models' state */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness; 200 only when every model in MODELS_DIR is ready (and the server is not draining) */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (text exposition format); names documented in README "Metrics" */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.yaml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server metadata */
        get: operations["v2ServerMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server liveness (200 while the process runs) */
        get: operations["v2Live"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server readiness (200 when every model is ready and the server is not draining, else 400) */
        get: operations["v2Ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Model metadata (its version, inputs and outputs) */
        get: operations["v2ModelMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{model}/versions/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Model metadata of a version (404 UNKNOWN_VERSION unless it is the one served) */
        get: operations["v2ModelVersionMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{model}/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Model readiness (200 ready, 400 not) */
        get: operations["v2ModelReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{model}/versions/{version}/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Model readiness of a version */
        get: operations["v2ModelVersionReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{model}/infer": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Inference with JSON or binary tensors (z and class rows in, image and attention out)
         * @description Rows are limited by MAX_SAMPLES_PER_IMAGE, the model's queue size, and MAX_INFER_RESPONSE_BYTES: a
         *     request whose requested outputs could exceed it (24 bytes a value for an output returned as JSON, 4
         *     for one returned as binary data) is refused before inference with 400 INVALID_ARGUMENT on
         *     `body.inputs[i].shape`, `allowed` giving the rows that fit. A JSON response is streamed (chunked) as
         *     it is formatted; a client that takes no bytes for WRITE_IDLE_TIMEOUT_MS is cut.
         *
         *     Binary tensor data (Triton's binary tensor data extension): the body is a JSON inference header of
         *     `Inference-Header-Content-Length` bytes (the whole body when the header is absent) followed by the
         *     bytes of each input that has `parameters.binary_data_size` instead of `data`, in the order of those
         *     inputs, little-endian and row-major (FP32 4 bytes, INT32 4, INT64 8). Send it as
         *     `application/octet-stream` (a body carrying the header is read this way whatever its type). An
         *     output asked for with `parameters.binary_data: true`, or every output when the request has
         *     `parameters.binary_data_output: true` (an output's own `binary_data` wins), is returned the same
         *     way: the response is then `application/octet-stream`, the JSON header (its length in
         *     `Inference-Header-Content-Length`) with each binary output's `parameters.binary_data_size` and no
         *     `data`, followed by their bytes in output order. Framing errors are 400 INVALID_ARGUMENT naming
         *     `header.Inference-Header-Content-Length` (not a byte count, or past the body),
         *     `body.inputs[i].parameters.binary_data_size` (not the tensor's size, or past the body) or `body`
         *     (bytes left over); a header that is not JSON is 400 MALFORMED_JSON.
         */
        post: operations["v2Infer"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{model}/versions/{version}/infer": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inference on a version (404 UNKNOWN_VERSION unless it is the one served) */
        post: operations["v2InferVersion"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        ClassRef: string | number;
        Seed: number;
        Truncation: number;
        /**
         * @default png
         * @enum {string}
         */
        Format: "png" | "jpeg" | "webp";
        Size: number;
        /** @default 1 */
        N: number;
        /**
         * @default none
         * @enum {string}
         */
        AttentionMode: "none" | "overlay" | "panel";
        /**
         * @default nearest
         * @enum {string}
         */
        Resample: "nearest" | "lanczos3";
        Point: string;
        Queries: components["schemas"]["Point"][];
        Latent: number[];
        GenerateRequest: {
            class: components["schemas"]["ClassRef"];
            seed?: components["schemas"]["Seed"];
            truncation?: components["schemas"]["Truncation"];
            format?: components["schemas"]["Format"];
            size?: components["schemas"]["Size"];
            n?: components["schemas"]["N"];
            attention?: components["schemas"]["AttentionMode"];
            query?: components["schemas"]["Queries"];
            resample?: components["schemas"]["Resample"];
            /**
             * @description Explicit latents instead of a seed: one latent (an array of the model's latent dim numbers) or
             *     n of them (an array of arrays; then `n` may be omitted). Excludes `seed` and `truncation`.
             */
            z?: components["schemas"]["Latent"] | components["schemas"]["Latent"][];
        };
        SamplesRequest: {
            class?: components["schemas"]["ClassRef"];
            classes?: components["schemas"]["ClassRef"][];
            seeds?: components["schemas"]["Seed"][];
            start_seed?: components["schemas"]["Seed"];
            count?: number;
            truncation?: components["schemas"]["Truncation"];
            format?: components["schemas"]["Format"];
        };
        SampleLine: {
            index?: number;
            seed?: number;
            class?: string;
            class_index?: number;
            format?: components["schemas"]["Format"];
            data?: string;
        };
        /** @description The last line of a stream that failed after its first line. */
        SampleErrorLine: components["schemas"]["Error"] & {
            /** @description The index of the first sample not delivered; resume from it. */
            next_index: number;
        };
        ModelStatus: {
            name: string;
            /** @enum {string} */
            status: "loading" | "ready" | "unavailable";
            /** @description Why the model is unavailable. */
            reason?: string;
            /** @enum {string} */
            provider?: "cuda" | "webgpu" | "cpu";
            failed_providers?: {
                provider?: string;
                error?: string;
            }[];
            load_seconds?: number;
            batching?: {
                maxBatchSize?: number;
                maxQueueDelayMs?: number;
                maxQueueSize?: number;
                requestTimeoutMs?: number;
                /** @description Sessions of the model running batches at the same time (MODEL_INSTANCES). */
                instances?: number;
            };
            queue_depth?: number;
            /** @description The serving version (the newest ready one the policy selects). */
            version?: string | null;
            /** @description Why the last load of a new version failed while this one kept serving. */
            reload_error?: string;
            /** @description The model.json manifest (README "Model manifest"). */
            manifest?: Record<string, unknown>;
            /** @description Every loaded or failed version, oldest first, each with the fields above (without `versions`). */
            versions?: Record<string, unknown>[];
        };
        V2MetadataTensor: {
            name: string;
            /** @enum {string} */
            datatype: "FP32" | "INT64";
            /** @description -1 is the batch axis. */
            shape: number[];
        };
        /** @description Row-major values, flat or nested. */
        V2TensorData: V2TensorData;
        V2InferRequest: {
            id?: string;
            parameters?: {
                /** @description Return every output as binary data (unless its own `binary_data` says otherwise). */
                binary_data_output?: boolean;
            };
            inputs: {
                name: string;
                shape: number[];
                /** @enum {string} */
                datatype: "FP32" | "FP64" | "INT64" | "INT32" | "INT16" | "INT8" | "UINT8";
                parameters?: {
                    /** @description Bytes of this input's binary data after the JSON header. */
                    binary_data_size?: number;
                };
                data?: components["schemas"]["V2TensorData"];
            }[];
            outputs?: {
                name: string;
                parameters?: {
                    /** @description Return this output as binary data after the JSON header. */
                    binary_data?: boolean;
                };
            }[];
        };
        V2ErrorBody: {
            /** @description The message (the protocol's field). */
            error: string;
            code: components["schemas"]["ErrorCode"];
            field?: string;
            allowed?: string | (string | number)[];
            request_id?: string;
        };
        /** @enum {string} */
        ErrorCode: "INVALID_ARGUMENT" | "MALFORMED_JSON" | "UNKNOWN_CLASS" | "NO_ATTENTION" | "NOT_FOUND" | "UNKNOWN_MODEL" | "UNKNOWN_VERSION" | "UNAUTHENTICATED" | "FORBIDDEN" | "CONTROL_DISABLED" | "CROSS_ORIGIN" | "HOST_NOT_ALLOWED" | "METHOD_NOT_ALLOWED" | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "LOAD_FAILED" | "INTERNAL" | "INFERENCE_FAILED" | "MODEL_UNAVAILABLE" | "QUEUE_FULL" | "WORKER_FAILED" | "SHUTTING_DOWN" | "TIMEOUT";
        Error: {
            error: {
                code: components["schemas"]["ErrorCode"];
                message: string;
                /** @description The request field at fault. */
                field?: string;
                /** @description What the field accepts (enum values, closest class names, or a range). */
                allowed?: string | (string | number)[];
            };
            request_id?: string;
        };
    };
    responses: {
        /** @description The encoded image. */
        Image: {
            headers: {
                /** @description Seed of the first sample (absent when `z` was given). */
                "X-Seed"?: number;
                /** @description Canonical class name: as it is when printable ASCII without `%` or surrounding spaces, else percent-encoded UTF-8 (decodeURIComponent gives the name in both cases). */
                "X-Class"?: string;
                /** @description Model name (encoded like X-Class). */
                "X-Model"?: string;
                /** @description Version that made the image (encoded like X-Class: `1–rc` is sent as `1%E2%80%93rc`). */
                "X-Model-Version"?: string;
                "X-Request-Id"?: string;
                /** @description Strong validator of the request's canonical parameters, the model version and a digest of the version's files (new files under the same version string get new ETags). */
                ETag?: string;
                /** @description `public, max-age=31536000, immutable` for seeded requests, `no-store` otherwise. */
                "Cache-Control"?: string;
                /** @description The server's response cache (keyed by the ETag): `hit` (served from it, no inference), `miss` (generated now, or by a concurrent identical request, and stored), `bypass` (a server-chosen seed or explicit `z`: never cached). Absent when the cache is off (`RESPONSE_CACHE_MB=0`). */
                "X-Cache"?: "hit" | "miss" | "bypass";
                [name: string]: unknown;
            };
            content: {
                "image/png": string;
                "image/jpeg": string;
                "image/webp": string;
            };
        };
        /** @description The client's `If-None-Match` matches (`*` or the ETag; GET or HEAD of a request with a `seed` only); no inference was run. */
        NotModified: {
            headers: {
                [name: string]: unknown;
            };
            content?: never;
        };
        /** @description A coded error. */
        Error: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Overloaded (QUEUE_FULL; checked before the request is validated, so under overload a malformed request may get this 503 rather than its 4xx), model unavailable, worker restarting, or shutting down. */
        Unavailable: {
            headers: {
                /** @description Seconds to wait before retrying. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Server readiness (the status code is the answer). */
        V2Ready: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    ready?: boolean;
                };
            };
        };
        /** @description Model readiness (the status code is the answer). */
        V2ModelReady: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    name?: string;
                    ready?: boolean;
                };
            };
        };
        /** @description The model's version, platform and tensors. */
        V2ModelMetadata: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    name: string;
                    versions?: string[];
                    /** @constant */
                    platform: "onnxruntime_onnx";
                    inputs: components["schemas"]["V2MetadataTensor"][];
                    outputs: components["schemas"]["V2MetadataTensor"][];
                };
            };
        };
        /**
         * @description The requested outputs as JSON tensors (row-major, flat); as `application/octet-stream` when an output
         *     is returned as binary data (the JSON header below, then the binary outputs' bytes).
         */
        V2Infer: {
            headers: {
                /** @description Bytes of JSON header before the binary data (binary responses only). */
                "Inference-Header-Content-Length"?: number;
                "X-Model"?: string;
                /** @description Encoded like the image responses' X-Class: percent-encoded UTF-8 unless printable ASCII without `%`. */
                "X-Model-Version"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    model_name: string;
                    model_version?: string;
                    id?: string;
                    outputs: {
                        name: string;
                        shape: number[];
                        /** @constant */
                        datatype: "FP32";
                        parameters?: {
                            /** @description Bytes of this output after the JSON header (binary outputs, which have no `data`). */
                            binary_data_size?: number;
                        };
                        data?: number[];
                    }[];
                };
                "application/octet-stream": string;
            };
        };
        /** @description An error in the Open Inference Protocol's shape, with this server's code. */
        V2Error: {
            headers: {
                /** @description Seconds to wait before retrying (503). */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["V2ErrorBody"];
            };
        };
        /** @description Readiness and each model's status. */
        Readiness: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": {
                    ready?: boolean;
                    models?: {
                        [key: string]: "loading" | "ready" | "unavailable";
                    };
                };
            };
        };
    };
    parameters: {
        /** @description Model name (its manifest's `name`). */
        Model: string;
        /** @description Model version (its manifest's `version`). */
        Version: string;
        /**
         * @description Class name or index. Names match ignoring case, spaces, hyphens and underscores
         *     ("Saint Bernard" = "saint_bernard"); an unknown name answers UNKNOWN_CLASS listing the class names,
         *     closest first (only the 3 closest for models with over 20 classes).
         */
        Class: components["schemas"]["ClassRef"];
        /** @description Latent seed (README "Seeds"). Absent = a random seed, returned in `X-Seed`. */
        Seed: components["schemas"]["Seed"];
        /** @description Truncation psi in (0, 1]; absent = no truncation. */
        Truncation: components["schemas"]["Truncation"];
        /**
         * @description Encoding. An image whose width or height passes the format's limit (WebP 16383 px, JPEG 65500 px per
         *     side) is refused before inference with 400 INVALID_ARGUMENT on `size`, naming the limit, the largest
         *     `size` that fits and the formats that would hold it.
         */
        Format: components["schemas"]["Format"];
        /** @description Output tile side in px, from the model's image size up to MAX_IMAGE_SIZE (default 1024); upscaled with `resample`. */
        Size: components["schemas"]["Size"];
        /** @description Samples in one grid image, 1 to MAX_SAMPLES_PER_IMAGE (default 64), and at most the model's `batching.maxQueueSize` (a request its queue could never hold gets 400 INVALID_ARGUMENT with the range). */
        N: components["schemas"]["N"];
        Attention: components["schemas"]["AttentionMode"];
        /** @description Attention query point `x,y` in model image pixels; repeat for up to 5 points (needs `attention`). */
        Query: components["schemas"]["Queries"];
        Resample: components["schemas"]["Resample"];
    };
    requestBodies: {
        V2Infer: {
            content: {
                "application/json": components["schemas"]["V2InferRequest"];
                "application/octet-stream": string;
            };
        };
        Generate: {
            content: {
                "application/json": components["schemas"]["GenerateRequest"];
            };
        };
    };
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    generateDefault: {
        parameters: {
            query: {
                /**
                 * @description Class name or index. Names match ignoring case, spaces, hyphens and underscores
                 *     ("Saint Bernard" = "saint_bernard"); an unknown name answers UNKNOWN_CLASS listing the class names,
                 *     closest first (only the 3 closest for models with over 20 classes).
                 */
                class: components["parameters"]["Class"];
                /** @description Latent seed (README "Seeds"). Absent = a random seed, returned in `X-Seed`. */
                seed?: components["parameters"]["Seed"];
                /** @description Truncation psi in (0, 1]; absent = no truncation. */
                truncation?: components["parameters"]["Truncation"];
                /**
                 * @description Encoding. An image whose width or height passes the format's limit (WebP 16383 px, JPEG 65500 px per
                 *     side) is refused before inference with 400 INVALID_ARGUMENT on `size`, naming the limit, the largest
                 *     `size` that fits and the formats that would hold it.
                 */
                format?: components["parameters"]["Format"];
                /** @description Output tile side in px, from the model's image size up to MAX_IMAGE_SIZE (default 1024); upscaled with `resample`. */
                size?: components["parameters"]["Size"];
                /** @description Samples in one grid image, 1 to MAX_SAMPLES_PER_IMAGE (default 64), and at most the model's `batching.maxQueueSize` (a request its queue could never hold gets 400 INVALID_ARGUMENT with the range). */
                n?: components["parameters"]["N"];
                attention?: components["parameters"]["Attention"];
                /** @description Attention query point `x,y` in model image pixels; repeat for up to 5 points (needs `attention`). */
                query?: components["parameters"]["Query"];
                resample?: components["parameters"]["Resample"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Image"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Error"];
        };
    };
    generateDefaultPost: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: components["requestBodies"]["Generate"];
        responses: {
            200: components["responses"]["Image"];
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Error"];
        };
    };
    listModels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The models, ready or not. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        default_model: string | null;
                        models: components["schemas"]["ModelStatus"][];
                    };
                };
            };
        };
    };
    getModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelStatus"];
                };
            };
            404: components["responses"]["Error"];
        };
    };
    generate: {
        parameters: {
            query: {
                /**
                 * @description Class name or index. Names match ignoring case, spaces, hyphens and underscores
                 *     ("Saint Bernard" = "saint_bernard"); an unknown name answers UNKNOWN_CLASS listing the class names,
                 *     closest first (only the 3 closest for models with over 20 classes).
                 */
                class: components["parameters"]["Class"];
                /** @description Latent seed (README "Seeds"). Absent = a random seed, returned in `X-Seed`. */
                seed?: components["parameters"]["Seed"];
                /** @description Truncation psi in (0, 1]; absent = no truncation. */
                truncation?: components["parameters"]["Truncation"];
                /**
                 * @description Encoding. An image whose width or height passes the format's limit (WebP 16383 px, JPEG 65500 px per
                 *     side) is refused before inference with 400 INVALID_ARGUMENT on `size`, naming the limit, the largest
                 *     `size` that fits and the formats that would hold it.
                 */
                format?: components["parameters"]["Format"];
                /** @description Output tile side in px, from the model's image size up to MAX_IMAGE_SIZE (default 1024); upscaled with `resample`. */
                size?: components["parameters"]["Size"];
                /** @description Samples in one grid image, 1 to MAX_SAMPLES_PER_IMAGE (default 64), and at most the model's `batching.maxQueueSize` (a request its queue could never hold gets 400 INVALID_ARGUMENT with the range). */
                n?: components["parameters"]["N"];
                attention?: components["parameters"]["Attention"];
                /** @description Attention query point `x,y` in model image pixels; repeat for up to 5 points (needs `attention`). */
                query?: components["parameters"]["Query"];
                resample?: components["parameters"]["Resample"];
            };
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Image"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Error"];
        };
    };
    generatePost: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody: components["requestBodies"]["Generate"];
        responses: {
            200: components["responses"]["Image"];
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Error"];
        };
    };
    generateVersion: {
        parameters: {
            query: {
                /**
                 * @description Class name or index. Names match ignoring case, spaces, hyphens and underscores
                 *     ("Saint Bernard" = "saint_bernard"); an unknown name answers UNKNOWN_CLASS listing the class names,
                 *     closest first (only the 3 closest for models with over 20 classes).
                 */
                class: components["parameters"]["Class"];
                /** @description Latent seed (README "Seeds"). Absent = a random seed, returned in `X-Seed`. */
                seed?: components["parameters"]["Seed"];
                /** @description Truncation psi in (0, 1]; absent = no truncation. */
                truncation?: components["parameters"]["Truncation"];
                /**
                 * @description Encoding. An image whose width or height passes the format's limit (WebP 16383 px, JPEG 65500 px per
                 *     side) is refused before inference with 400 INVALID_ARGUMENT on `size`, naming the limit, the largest
                 *     `size` that fits and the formats that would hold it.
                 */
                format?: components["parameters"]["Format"];
                /** @description Output tile side in px, from the model's image size up to MAX_IMAGE_SIZE (default 1024); upscaled with `resample`. */
                size?: components["parameters"]["Size"];
                /** @description Samples in one grid image, 1 to MAX_SAMPLES_PER_IMAGE (default 64), and at most the model's `batching.maxQueueSize` (a request its queue could never hold gets 400 INVALID_ARGUMENT with the range). */
                n?: components["parameters"]["N"];
                attention?: components["parameters"]["Attention"];
                /** @description Attention query point `x,y` in model image pixels; repeat for up to 5 points (needs `attention`). */
                query?: components["parameters"]["Query"];
                resample?: components["parameters"]["Resample"];
            };
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
                /** @description Model version (its manifest's `version`). */
                version: components["parameters"]["Version"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Image"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Error"];
        };
    };
    generateVersionPost: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
                /** @description Model version (its manifest's `version`). */
                version: components["parameters"]["Version"];
            };
            cookie?: never;
        };
        requestBody: components["requestBodies"]["Generate"];
        responses: {
            200: components["responses"]["Image"];
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Error"];
        };
    };
    repositoryIndex: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The index. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        models: {
                            name: string;
                            version: string | null;
                            /**
                             * @description draining is a retired version (replaced, unloaded or no longer selected) whose responses in progress are finishing; it leaves the index once released.
                             * @enum {string}
                             */
                            state: "loading" | "ready" | "unavailable" | "draining";
                            reason?: string;
                        }[];
                    };
                };
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            415: components["responses"]["Error"];
        };
    };
    repositoryLoad: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model after the load. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelStatus"];
                };
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            415: components["responses"]["Error"];
            422: components["responses"]["Error"];
        };
    };
    repositoryUnload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unloaded. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        /** @constant */
                        unloaded: true;
                    };
                };
            };
            401: components["responses"]["Error"];
            403: components["responses"]["Error"];
            404: components["responses"]["Error"];
            415: components["responses"]["Error"];
        };
    };
    samples: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SamplesRequest"];
            };
        };
        responses: {
            /** @description NDJSON stream, one image per line. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["SampleLine"] | components["schemas"]["SampleErrorLine"];
                };
            };
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
        };
    };
    interpolate: {
        parameters: {
            query: {
                /**
                 * @description Class name or index. Names match ignoring case, spaces, hyphens and underscores
                 *     ("Saint Bernard" = "saint_bernard"); an unknown name answers UNKNOWN_CLASS listing the class names,
                 *     closest first (only the 3 closest for models with over 20 classes).
                 */
                class: components["parameters"]["Class"];
                /** @description Seed of the first tile. */
                from: components["schemas"]["Seed"];
                /** @description Seed of the last tile. */
                to: components["schemas"]["Seed"];
                /** @description Tiles in the strip, both ends included; at most the model's `batching.maxQueueSize` (400 INVALID_ARGUMENT past it). */
                steps?: number;
                /** @description Truncation psi in (0, 1]; absent = no truncation. */
                truncation?: components["parameters"]["Truncation"];
                /**
                 * @description Encoding. An image whose width or height passes the format's limit (WebP 16383 px, JPEG 65500 px per
                 *     side) is refused before inference with 400 INVALID_ARGUMENT on `size`, naming the limit, the largest
                 *     `size` that fits and the formats that would hold it.
                 */
                format?: components["parameters"]["Format"];
                /** @description Output tile side in px, from the model's image size up to MAX_IMAGE_SIZE (default 1024); upscaled with `resample`. */
                size?: components["parameters"]["Size"];
                /** @description Interpolation path; formulas above. */
                mode?: "slerp" | "lerp";
                resample?: components["parameters"]["Resample"];
            };
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Image"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["Error"];
            404: components["responses"]["Error"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Error"];
        };
    };
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status?: "ok";
                    };
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Readiness"];
            503: components["responses"]["Readiness"];
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Metrics. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OpenAPI 3.1 YAML. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/yaml": string;
                };
            };
        };
    };
    v2ServerMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Name, version, protocol extensions. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        name: "sagan-serve";
                        version: string;
                        /** @description `binary_tensor_data`: infer takes and gives tensors as binary data (see `infer`). */
                        extensions: string[];
                    };
                };
            };
        };
    };
    v2Live: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Live. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        live?: true;
                    };
                };
            };
        };
    };
    v2Ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["V2Ready"];
            400: components["responses"]["V2Ready"];
        };
    };
    v2ModelMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["V2ModelMetadata"];
            404: components["responses"]["V2Error"];
            503: components["responses"]["V2Error"];
        };
    };
    v2ModelVersionMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
                /** @description Model version (its manifest's `version`). */
                version: components["parameters"]["Version"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["V2ModelMetadata"];
            404: components["responses"]["V2Error"];
            503: components["responses"]["V2Error"];
        };
    };
    v2ModelReady: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["V2ModelReady"];
            400: components["responses"]["V2ModelReady"];
            404: components["responses"]["V2Error"];
        };
    };
    v2ModelVersionReady: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
                /** @description Model version (its manifest's `version`). */
                version: components["parameters"]["Version"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["V2ModelReady"];
            400: components["responses"]["V2ModelReady"];
            404: components["responses"]["V2Error"];
        };
    };
    v2Infer: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
            };
            cookie?: never;
        };
        requestBody: components["requestBodies"]["V2Infer"];
        responses: {
            200: components["responses"]["V2Infer"];
            400: components["responses"]["V2Error"];
            404: components["responses"]["V2Error"];
            413: components["responses"]["V2Error"];
            415: components["responses"]["V2Error"];
            503: components["responses"]["V2Error"];
            504: components["responses"]["V2Error"];
        };
    };
    v2InferVersion: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Model name (its manifest's `name`). */
                model: components["parameters"]["Model"];
                /** @description Model version (its manifest's `version`). */
                version: components["parameters"]["Version"];
            };
            cookie?: never;
        };
        requestBody: components["requestBodies"]["V2Infer"];
        responses: {
            200: components["responses"]["V2Infer"];
            400: components["responses"]["V2Error"];
            404: components["responses"]["V2Error"];
            413: components["responses"]["V2Error"];
            415: components["responses"]["V2Error"];
            503: components["responses"]["V2Error"];
            504: components["responses"]["V2Error"];
        };
    };
}
export type V2TensorData = (number | components["schemas"]["V2TensorData"])[];

/**
 * For each operation with query parameters or a JSON body, the top-level fields with a default in the
 * document: the validators fill them in, so they are present in every validated request.
 */
export interface requestDefaults {
    generateDefault: {
        query: "format" | "n" | "attention" | "resample";
    };
    generateDefaultPost: {
        body: "format" | "n" | "attention" | "resample";
    };
    generate: {
        query: "format" | "n" | "attention" | "resample";
    };
    generatePost: {
        body: "format" | "n" | "attention" | "resample";
    };
    generateVersion: {
        query: "format" | "n" | "attention" | "resample";
    };
    generateVersionPost: {
        body: "format" | "n" | "attention" | "resample";
    };
    samples: {
        body: "format";
    };
    interpolate: {
        query: "steps" | "format" | "mode" | "resample";
    };
    v2Infer: {
        body: never;
    };
    v2InferVersion: {
        body: never;
    };
}
