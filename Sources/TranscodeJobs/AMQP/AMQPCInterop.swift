import CRabbitMQ
import Foundation

// Conversions between librabbitmq's C structures and the Swift values of AMQPValue.swift.
// Internal: nothing outside the AMQP folder sees a C type.

/// Basic-class property flags (amqp_framing.h; macros with shifts, spelled out here).
enum PropertyFlag {
    static let contentType: UInt32 = 1 << 15
    static let contentEncoding: UInt32 = 1 << 14
    static let headers: UInt32 = 1 << 13
    static let deliveryMode: UInt32 = 1 << 12
    static let priority: UInt32 = 1 << 11
    static let correlationId: UInt32 = 1 << 10
    static let replyTo: UInt32 = 1 << 9
    static let expiration: UInt32 = 1 << 8
    static let messageId: UInt32 = 1 << 7
    static let timestamp: UInt32 = 1 << 6
    static let type: UInt32 = 1 << 5
    static let userId: UInt32 = 1 << 4
    static let appId: UInt32 = 1 << 3
}

private func kind(_ value: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: value.rawValue) }

/// Owns the C memory built for one call (tables, strings, properties) and frees it at the end.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    private func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        guard let pointer = malloc(max(1, byteCount)) else { fatalError("out of memory (\(byteCount) bytes)") }
        allocations.append(pointer)
        return pointer
    }

    func bytes(_ text: String) -> amqp_bytes_t { bytes(Array(text.utf8)) }

    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        guard !data.isEmpty else { return amqp_bytes_t(len: 0, bytes: nil) }
        let pointer = allocate(data.count)
        data.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
        return amqp_bytes_t(len: data.count, bytes: pointer)
    }

    func cString(_ text: String) -> UnsafePointer<CChar> {
        let utf8 = Array(text.utf8) + [0]
        let pointer = allocate(utf8.count)
        utf8.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
        return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.entries.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.entries.count)
        for (index, entry) in table.entries.enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(entry.key), value: fieldValue(entry.value))
        }
        return amqp_table_t(num_entries: Int32(table.entries.count), entries: entries)
    }

    func fieldValue(_ value: AMQPValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .bool(let flag):
            field.kind = kind(AMQP_FIELD_KIND_BOOLEAN); field.value.boolean = flag ? 1 : 0
        case .int(let number):
            field.kind = kind(AMQP_FIELD_KIND_I64); field.value.i64 = number
        case .uint(let number):
            // RabbitMQ has no unsigned 64-bit field type: send it signed when it fits.
            if number <= UInt64(Int64.max) {
                field.kind = kind(AMQP_FIELD_KIND_I64); field.value.i64 = Int64(number)
            } else {
                field.kind = kind(AMQP_FIELD_KIND_F64); field.value.f64 = Double(number)
            }
        case .double(let number):
            field.kind = kind(AMQP_FIELD_KIND_F64); field.value.f64 = number
        case .decimal(let decimals, let number):
            field.kind = kind(AMQP_FIELD_KIND_DECIMAL); field.value.decimal = amqp_decimal_t(decimals: decimals, value: number)
        case .string(let text):
            field.kind = kind(AMQP_FIELD_KIND_UTF8); field.value.bytes = bytes(text)
        case .bytes(let data):
            field.kind = kind(AMQP_FIELD_KIND_BYTES); field.value.bytes = bytes(data)
        case .timestamp(let seconds):
            field.kind = kind(AMQP_FIELD_KIND_TIMESTAMP); field.value.u64 = seconds
        case .table(let nested):
            field.kind = kind(AMQP_FIELD_KIND_TABLE); field.value.table = table(nested)
        case .array(let values):
            field.kind = kind(AMQP_FIELD_KIND_ARRAY)
            if values.isEmpty {
                field.value.array = amqp_array_t(num_entries: 0, entries: nil)
            } else {
                let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * values.count)
                    .bindMemory(to: amqp_field_value_t.self, capacity: values.count)
                for (index, element) in values.enumerated() { entries[index] = fieldValue(element) }
                field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries)
            }
        case .void:
            field.kind = kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    func properties(_ properties: AMQPProperties) -> amqp_basic_properties_t {
        var result = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let value = properties.contentType { flags |= PropertyFlag.contentType; result.content_type = bytes(value) }
        if let value = properties.contentEncoding { flags |= PropertyFlag.contentEncoding; result.content_encoding = bytes(value) }
        if let value = properties.headers { flags |= PropertyFlag.headers; result.headers = table(value) }
        if let value = properties.deliveryMode { flags |= PropertyFlag.deliveryMode; result.delivery_mode = value }
        if let value = properties.priority { flags |= PropertyFlag.priority; result.priority = value }
        if let value = properties.correlationId { flags |= PropertyFlag.correlationId; result.correlation_id = bytes(value) }
        if let value = properties.replyTo { flags |= PropertyFlag.replyTo; result.reply_to = bytes(value) }
        if let value = properties.expiration { flags |= PropertyFlag.expiration; result.expiration = bytes(value) }
        if let value = properties.messageId { flags |= PropertyFlag.messageId; result.message_id = bytes(value) }
        if let value = properties.timestamp { flags |= PropertyFlag.timestamp; result.timestamp = value }
        if let value = properties.type { flags |= PropertyFlag.type; result.type = bytes(value) }
        if let value = properties.userId { flags |= PropertyFlag.userId; result.user_id = bytes(value) }
        if let value = properties.appId { flags |= PropertyFlag.appId; result.app_id = bytes(value) }
        result._flags = flags
        return result
    }
}

/// Reading C values into Swift ones (copies; the C memory may be released right after).
enum CRead {
    static func bytes(_ value: amqp_bytes_t) -> [UInt8] {
        guard value.len > 0, let pointer = value.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: value.len))
    }

    static func string(_ value: amqp_bytes_t) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    static func table(_ table: amqp_table_t) -> AMQPTable {
        var result = AMQPTable()
        guard table.num_entries > 0, let entries = table.entries else { return result }
        for index in 0..<Int(table.num_entries) {
            result[string(entries[index].key)] = value(entries[index].value)
        }
        return result
    }

    static func value(_ field: amqp_field_value_t) -> AMQPValue {
        switch field.kind {
        case kind(AMQP_FIELD_KIND_BOOLEAN): return .bool(field.value.boolean != 0)
        case kind(AMQP_FIELD_KIND_I8): return .int(Int64(field.value.i8))
        case kind(AMQP_FIELD_KIND_U8): return .int(Int64(field.value.u8))
        case kind(AMQP_FIELD_KIND_I16): return .int(Int64(field.value.i16))
        case kind(AMQP_FIELD_KIND_U16): return .int(Int64(field.value.u16))
        case kind(AMQP_FIELD_KIND_I32): return .int(Int64(field.value.i32))
        case kind(AMQP_FIELD_KIND_U32): return .int(Int64(field.value.u32))
        case kind(AMQP_FIELD_KIND_I64): return .int(field.value.i64)
        case kind(AMQP_FIELD_KIND_U64): return .uint(field.value.u64)
        case kind(AMQP_FIELD_KIND_F32): return .double(Double(field.value.f32))
        case kind(AMQP_FIELD_KIND_F64): return .double(field.value.f64)
        case kind(AMQP_FIELD_KIND_DECIMAL): return .decimal(decimals: field.value.decimal.decimals, value: field.value.decimal.value)
        case kind(AMQP_FIELD_KIND_UTF8): return .string(string(field.value.bytes))
        case kind(AMQP_FIELD_KIND_BYTES): return .bytes(bytes(field.value.bytes))
        case kind(AMQP_FIELD_KIND_TIMESTAMP): return .timestamp(field.value.u64)
        case kind(AMQP_FIELD_KIND_TABLE): return .table(table(field.value.table))
        case kind(AMQP_FIELD_KIND_ARRAY):
            var values: [AMQPValue] = []
            if field.value.array.num_entries > 0, let entries = field.value.array.entries {
                for index in 0..<Int(field.value.array.num_entries) { values.append(value(entries[index])) }
            }
            return .array(values)
        default: return .void
        }
    }

    static func properties(_ properties: amqp_basic_properties_t) -> AMQPProperties {
        let flags = properties._flags
        func has(_ flag: UInt32) -> Bool { flags & flag != 0 }
        var result = AMQPProperties()
        if has(PropertyFlag.contentType) { result.contentType = string(properties.content_type) }
        if has(PropertyFlag.contentEncoding) { result.contentEncoding = string(properties.content_encoding) }
        if has(PropertyFlag.headers) { result.headers = table(properties.headers) }
        if has(PropertyFlag.deliveryMode) { result.deliveryMode = properties.delivery_mode }
        if has(PropertyFlag.priority) { result.priority = properties.priority }
        if has(PropertyFlag.correlationId) { result.correlationId = string(properties.correlation_id) }
        if has(PropertyFlag.replyTo) { result.replyTo = string(properties.reply_to) }
        if has(PropertyFlag.expiration) { result.expiration = string(properties.expiration) }
        if has(PropertyFlag.messageId) { result.messageId = string(properties.message_id) }
        if has(PropertyFlag.timestamp) { result.timestamp = properties.timestamp }
        if has(PropertyFlag.type) { result.type = string(properties.type) }
        if has(PropertyFlag.userId) { result.userId = string(properties.user_id) }
        if has(PropertyFlag.appId) { result.appId = string(properties.app_id) }
        return result
    }
}
