import CoreMetrics
import Prometheus

/// swift-metrics' backend for a process that is scraped by Prometheus: every metric goes to one
/// `PrometheusCollectorRegistry` with the HELP text and histogram buckets its catalogue entry
/// gives (swift-prometheus' own factory writes no HELP, which `promtool check metrics` refuses).
/// Bootstrap it once with `MetricsSystem.bootstrap`.
public final class PrometheusMetrics: MetricsFactory, Sendable {
    /// What the exposition says of one metric.
    public struct Entry: Sendable {
        public var name: String
        public var help: String
        /// Upper bounds of a histogram's buckets (seconds for a timer).
        public var buckets: [Double]

        public init(name: String, help: String, buckets: [Double] = []) {
            self.name = name
            self.help = help
            self.buckets = buckets
        }
    }

    public let registry = PrometheusCollectorRegistry()
    private let entries: [String: Entry]

    /// - Parameter catalogue: every metric the process records; one it does not list is exported
    ///   with a HELP line naming it as undocumented.
    public init(catalogue: [Entry]) {
        entries = Dictionary(catalogue.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric recorded so far.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: entries[label]?.help ?? "\(label) (undocumented)")
    }

    private func buckets(_ label: String) -> [Double] {
        entries[label]?.buckets.isEmpty == false ? entries[label]!.buckets : [0.01, 0.1, 1, 10, 100, 1000]
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets(label))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions,
                                       buckets: buckets(label).map { Duration.nanoseconds(Int64($0 * 1e9)) })
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
