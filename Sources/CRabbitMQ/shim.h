// librabbitmq 0.11 (Debian 12's librabbitmq-dev) as seen from Swift.
// The headers are <amqp.h> and <amqp_tcp_socket.h> in 0.11 (not <rabbitmq-c/...>).
#ifndef HLSIFY_CRABBITMQ_SHIM_H
#define HLSIFY_CRABBITMQ_SHIM_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

// Method ids are macros with casts, which Swift does not import: name them once here.
static const amqp_method_number_t HLSIFY_AMQP_CONNECTION_CLOSE = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_CONNECTION_CLOSE_OK = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_CONNECTION_BLOCKED = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_CONNECTION_UNBLOCKED = AMQP_CONNECTION_UNBLOCKED_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_CHANNEL_CLOSE = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_CHANNEL_CLOSE_OK = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_BASIC_DELIVER = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_BASIC_ACK = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_BASIC_NACK = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_BASIC_RETURN = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_BASIC_CANCEL = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t HLSIFY_AMQP_BASIC_CANCEL_OK = AMQP_BASIC_CANCEL_OK_METHOD;

// amqp_login_with_properties is variadic (the SASL arguments), which Swift cannot call.
static inline amqp_rpc_reply_t hlsify_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                        int channel_max, int frame_max, int heartbeat,
                                                        const amqp_table_t *client_properties,
                                                        const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, client_properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
