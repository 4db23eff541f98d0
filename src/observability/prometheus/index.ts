/**
 * `qtasks/prometheus`: Prometheus metrics (prom-client) and a `/metrics` endpoint. Optional:
 * install `prom-client` to use it.
 */
import 'reflect-metadata';
export { PrometheusPlugin } from './prometheus-plugin';
export type { PrometheusOptions, MetricsApp } from './prometheus-plugin';
export { metricsHandler, serveMetrics } from './metrics-server';
export type { MetricsServer, MetricsServerOptions } from './metrics-server';
