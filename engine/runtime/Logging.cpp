#include "runtime/Logging.h"

Q_LOGGING_CATEGORY(lcEngine, "oee.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "oee.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcWs, "oee.ws", QtInfoMsg)
Q_LOGGING_CATEGORY(lcQueue, "oee.queue", QtInfoMsg)
Q_LOGGING_CATEGORY(lcDex, "oee.dex", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "oee.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRuntime, "oee.runtime", QtInfoMsg)
