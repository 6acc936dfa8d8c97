import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtCharts
import Oee 1.0

// The operator console. Everything it shows comes from C++ models of the engine (`console`).
ApplicationWindow {
    id: window
    width: 1440
    height: 900
    minimumWidth: 1280
    minimumHeight: 800
    visible: true
    title: qsTr("oee — order execution engine")

    SystemPalette { id: pal; colorGroup: SystemPalette.Active }
    readonly property bool dark: pal.window.hslLightness < 0.5
    color: pal.window
    // Every control follows the system palette (light or dark), not the style's own.
    palette.window: pal.window
    palette.windowText: pal.windowText
    palette.base: pal.base
    palette.alternateBase: pal.alternateBase
    palette.text: pal.text
    palette.button: pal.button
    palette.buttonText: pal.buttonText
    palette.highlight: pal.highlight
    palette.highlightedText: pal.highlightedText
    palette.light: pal.light
    palette.midlight: pal.midlight
    palette.mid: pal.mid
    palette.dark: pal.dark
    palette.shadow: pal.shadow
    palette.placeholderText: pal.placeholderText

    function statusColor(s) {
        switch (s) {
        case "pending": return "#8a8f98"
        case "routing": return "#3b82f6"
        case "building": return "#8b5cf6"
        case "submitted": return "#f59e0b"
        case "confirmed": return "#16a34a"
        case "failed": return "#dc2626"
        case "cancelled": return "#6b7280"
        case "open": return "#06b6d4"
        case "expired": return "#a16207"
        }
        return "#8a8f98"
    }

    header: ToolBar {
        RowLayout {
            anchors.fill: parent
            anchors.margins: 6
            spacing: 16
            Label { text: "oee"; font.bold: true; font.pixelSize: 18 }
            Repeater {
                model: [
                    { name: "Redis", up: console.redisUp, state: console.redisState },
                    { name: "PostgreSQL", up: console.postgresUp, state: console.postgresState }
                ]
                delegate: RowLayout {
                    spacing: 4
                    Rectangle { width: 12; height: 12; radius: 6; color: modelData.up ? "#16a34a" : "#dc2626" }
                    Label {
                        text: modelData.name + (modelData.up ? "" : " DOWN: " + modelData.state)
                        color: modelData.up ? pal.windowText : "#dc2626"
                        font.bold: !modelData.up
                    }
                }
            }
            Label { text: "REST " + console.restUrl + "   WS " + console.wsUrl; opacity: 0.8 }
            Item { Layout.fillWidth: true }
            Label { text: console.rateLimit; opacity: 0.8 }
        }
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 8

        // ---- left: quotes, queue, lifecycles -------------------------------------------
        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.preferredWidth: 3

            GroupBox {
                title: qsTr("Quotes %1 → %2 (amount %3)").arg(console.quotes.tokenIn).arg(console.quotes.tokenOut).arg(console.quotes.amount)
                Layout.fillWidth: true
                Layout.fillHeight: true
                ColumnLayout {
                    anchors.fill: parent
                    RowLayout {
                        spacing: 14
                        Label { text: "Raydium " + console.quotes.raydiumPrice.toPrecision(8); color: "#7c3aed" }
                        Label { text: "Meteora " + console.quotes.meteoraPrice.toPrecision(8); color: "#0891b2" }
                        Label { text: "spread " + console.quotes.spreadBps.toFixed(1) + " bps" }
                        Label {
                            objectName: "chosenVenue"
                            text: "router → " + console.quotes.chosenVenue
                            font.bold: true
                        }
                        Label {
                            opacity: 0.8
                            text: "fee R " + (console.quotes.raydiumFee * 100).toFixed(2) + "% / M "
                                  + (console.quotes.meteoraFee * 100).toFixed(2) + "%  impact R "
                                  + (console.quotes.raydiumImpact * 100).toFixed(4) + "% / M "
                                  + (console.quotes.meteoraImpact * 100).toFixed(4) + "%"
                        }
                    }
                    Label {
                        objectName: "planLabel"
                        Layout.fillWidth: true
                        text: console.quotes.planText
                        elide: Text.ElideRight
                        font.pixelSize: 12
                    }
                    // The pair's pools, live: CPMM reserves; DLMM liquidity ±20 bins around the
                    // active one (highlighted), moving with fills.
                    RowLayout {
                        objectName: "poolStrip"
                        Layout.fillWidth: true
                        spacing: 12
                        Repeater {
                            model: console.quotes.pools
                            delegate: ColumnLayout {
                                required property var modelData
                                Layout.fillWidth: true
                                Layout.preferredWidth: 1
                                spacing: 2
                                Label {
                                    Layout.fillWidth: true
                                    text: modelData.summary
                                    elide: Text.ElideRight
                                    font.pixelSize: 11
                                    color: modelData.venue === "raydium" ? "#7c3aed" : "#0891b2"
                                }
                                Row {
                                    visible: modelData.kind === "dlmm"
                                    Layout.fillWidth: true
                                    Layout.preferredHeight: visible ? 28 : 0
                                    spacing: 1
                                    Repeater {
                                        model: modelData.bins || []
                                        delegate: Item {
                                            required property var modelData
                                            width: 4
                                            height: 28
                                            Rectangle {
                                                anchors.bottom: parent.bottom
                                                width: parent.width
                                                height: Math.max(1, parent.height * modelData.h)
                                                color: modelData.active ? "#f59e0b" : "#0891b2"
                                                opacity: modelData.active ? 1 : 0.7
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    ChartView {
                        id: quoteChart
                        objectName: "quoteChart"
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        antialiasing: true
                        legend.visible: true
                        theme: window.dark ? ChartView.ChartThemeDark : ChartView.ChartThemeLight
                        DateTimeAxis { id: quoteX; format: "hh:mm:ss"; min: new Date(console.quotes.windowStart); max: new Date(console.quotes.windowEnd) }
                        // The quotes' range, widened to the limit prices within 2 % of them.
                        readonly property var nearLimits: console.limitLevels.filter(
                            p => Math.abs(p / ((console.quotes.minPrice + console.quotes.maxPrice) / 2) - 1) < 0.02)
                        ValueAxis {
                            id: quoteY
                            min: Math.min(console.quotes.minPrice, ...quoteChart.nearLimits)
                            max: Math.max(console.quotes.maxPrice, ...quoteChart.nearLimits.map(p => p * 1.0002))
                            labelFormat: "%.6g"
                        }
                        LineSeries { id: raySeries; name: "Raydium"; axisX: quoteX; axisY: quoteY; color: "#7c3aed"; width: console.quotes.chosenVenue === "raydium" ? 3 : 1.5 }
                        LineSeries { id: metSeries; name: "Meteora"; axisX: quoteX; axisY: quoteY; color: "#0891b2"; width: console.quotes.chosenVenue === "meteora" ? 3 : 1.5 }
                        Component.onCompleted: console.quotes.attach(raySeries, metSeries)
                        // Resting limit orders on this pair: a dashed line at each limit price
                        // within the axis; the ones beyond it are counted in the corner.
                        Repeater {
                            objectName: "limitLines"
                            model: console.limitLevels
                            delegate: Item {
                                required property var modelData
                                readonly property bool inRange: modelData >= quoteY.min && modelData <= quoteY.max
                                readonly property point at: quoteChart.mapToPosition(Qt.point(quoteX.min.getTime(), modelData), raySeries)
                                visible: inRange
                                x: quoteChart.plotArea.x
                                y: at.y
                                width: quoteChart.plotArea.width
                                height: 1
                                Row {
                                    spacing: 4
                                    Repeater {
                                        model: Math.floor(quoteChart.plotArea.width / 10)
                                        Rectangle { width: 6; height: 1; color: "#16a34a" }
                                    }
                                }
                                Label {
                                    anchors.right: parent.right
                                    anchors.bottom: parent.top
                                    text: qsTr("limit %1").arg(Number(modelData).toPrecision(8))
                                    font.pixelSize: 10
                                    color: "#16a34a"
                                }
                            }
                        }
                        Label {
                            objectName: "limitsBeyond"
                            readonly property int above: console.limitLevels.filter(p => p > quoteY.max).length
                            readonly property int below: console.limitLevels.filter(p => p < quoteY.min).length
                            visible: above + below > 0
                            x: quoteChart.plotArea.x + 4
                            y: quoteChart.plotArea.y + 2
                            text: qsTr("limits: %1 above ↑ · %2 below ↓").arg(above).arg(below)
                            font.pixelSize: 10
                            color: "#16a34a"
                        }
                    }
                }
            }

            GroupBox {
                title: qsTr("Queue — waiting %1, active %2, delayed %3 · confirmed %4/s, failed %5/s")
                       .arg(console.queue.waiting).arg(console.queue.active).arg(console.queue.delayed)
                       .arg(console.queue.confirmedPerSecond).arg(console.queue.failedPerSecond)
                Layout.fillWidth: true
                Layout.preferredHeight: 220
                ChartView {
                    id: queueChart
                    objectName: "queueChart"
                    anchors.fill: parent
                    antialiasing: true
                    theme: window.dark ? ChartView.ChartThemeDark : ChartView.ChartThemeLight
                    DateTimeAxis { id: queueX; format: "hh:mm:ss"; min: new Date(console.queue.windowStart); max: new Date(console.queue.windowEnd) }
                    ValueAxis { id: queueY; min: 0; max: console.queue.maxDepth; labelFormat: "%d" }
                    LineSeries { id: waitingSeries; name: "waiting"; axisX: queueX; axisY: queueY; color: "#f59e0b" }
                    LineSeries { id: activeSeries; name: "active"; axisX: queueX; axisY: queueY; color: "#3b82f6" }
                    LineSeries { id: delayedSeries; name: "delayed"; axisX: queueX; axisY: queueY; color: "#dc2626" }
                    Component.onCompleted: console.queue.attach(waitingSeries, activeSeries, delayedSeries)
                }
            }

            GroupBox {
                title: qsTr("Order lifecycles (time in each status) and end-to-end latency")
                Layout.fillWidth: true
                Layout.preferredHeight: 230
                RowLayout {
                    anchors.fill: parent
                    ListView {
                        id: timeline
                        objectName: "timelineView"
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        clip: true
                        model: console.orders
                        spacing: 2
                        delegate: Row {
                            height: 12
                            spacing: 4
                            Label { width: 66; text: model.orderId.substring(0, 8); font.pixelSize: 10; font.family: "monospace" }
                            LifecycleLane {
                                width: timeline.width - 70
                                height: 10
                                orders: console.orders
                                orderId: model.orderId
                                msPerPixel: 10 // a slow step stands out
                            }
                        }
                    }
                    ColumnLayout {
                        Layout.preferredWidth: 300
                        Layout.fillHeight: true
                        Label { text: qsTr("latency distribution"); opacity: 0.8 }
                        Row {
                            objectName: "latencyBars"
                            Layout.fillHeight: true
                            spacing: 2
                            Repeater {
                                model: console.latency
                                delegate: Column {
                                    width: 25
                                    spacing: 1
                                    Item {
                                        width: parent.width
                                        height: 140
                                        Rectangle {
                                            anchors.bottom: parent.bottom
                                            anchors.horizontalCenter: parent.horizontalCenter
                                            width: 18
                                            height: console.latency.maxCount > 0 ? 124 * model.count / console.latency.maxCount : 0
                                            color: "#3b82f6"
                                        }
                                        Label {
                                            anchors.horizontalCenter: parent.horizontalCenter
                                            anchors.top: parent.top
                                            text: model.count
                                            font.pixelSize: 9
                                        }
                                    }
                                    Label { text: model.label; font.pixelSize: 8; anchors.horizontalCenter: parent.horizontalCenter }
                                }
                            }
                        }
                    }
                }
            }
        }

        // ---- right: entry, orders, history ------------------------------------------------
        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.preferredWidth: 2

            GroupBox {
                title: qsTr("New order")
                Layout.fillWidth: true
                GridLayout {
                    columns: 4
                    anchors.fill: parent
                    Label { text: qsTr("Type") }
                    ComboBox {
                        id: orderType
                        objectName: "orderTypeBox"
                        model: ["market", "limit", "sniper"]
                    }
                    Label {
                        text: orderType.currentText === "limit" ? qsTr("Limit price")
                              : orderType.currentText === "sniper" ? qsTr("Max price") : ""
                    }
                    TextField {
                        id: price
                        objectName: "priceField"
                        enabled: orderType.currentText !== "market"
                        placeholderText: orderType.currentText === "limit" ? qsTr("%1 per %2").arg(tokenOut.editText).arg(tokenIn.currentText)
                                         : orderType.currentText === "sniper" ? qsTr("%1 per token (optional)").arg(tokenIn.currentText) : ""
                    }
                    Label { text: qsTr("Pay") }
                    ComboBox {
                        id: tokenIn
                        objectName: "tokenInBox"
                        model: console.tokens
                        currentIndex: 0
                        onActivated: console.quotes.setPair(currentText, tokenOut.editText)
                    }
                    Label { text: qsTr("Receive") }
                    ComboBox {
                        id: tokenOut
                        objectName: "tokenOutBox"
                        model: console.tokens
                        currentIndex: 1
                        // A sniper names a token that does not trade yet.
                        editable: orderType.currentText === "sniper"
                        onActivated: console.quotes.setPair(tokenIn.currentText, currentText)
                    }
                    Label { text: qsTr("Amount") }
                    TextField {
                        id: amount
                        objectName: "amountField"
                        text: "1.5"
                        validator: DoubleValidator { bottom: 0 }
                        onTextChanged: if (Number(text) > 0) console.quotes.amount = Number(text)
                    }
                    Label { text: qsTr("Slippage") }
                    TextField { id: slippage; objectName: "slippageField"; text: "0.01" }
                    Label { text: qsTr("Expires in (s)") }
                    SpinBox { id: ttl; objectName: "ttlBox"; from: 0; to: 86400; value: 0; editable: true; enabled: orderType.currentText !== "market" }
                    Label { text: ttl.value > 0 && orderType.currentText !== "market" ? "" : qsTr("0: never"); opacity: 0.7; Layout.columnSpan: 2 }
                    RowLayout {
                        Layout.columnSpan: 4
                        Layout.fillWidth: true
                        Button {
                            id: submitButton
                            objectName: "submitButton"
                            text: qsTr("Submit %1").arg(orderType.currentText)
                            highlighted: true
                            onClicked: orderType.currentText === "market"
                                       ? console.submit(tokenIn.currentText, tokenOut.currentText, amount.text, Number(slippage.text))
                                       : console.submitOrder(orderType.currentText, tokenIn.currentText, tokenOut.editText,
                                                             amount.text, Number(slippage.text), price.text, ttl.value)
                        }
                        Button {
                            objectName: "burstButton"
                            text: qsTr("Burst ×%1").arg(burstCount.value)
                            enabled: orderType.currentText === "market"
                            onClicked: console.burst(burstCount.value, tokenIn.currentText, tokenOut.currentText, amount.text, Number(slippage.text))
                        }
                        SpinBox { id: burstCount; from: 2; to: 1000; value: 5; editable: true; enabled: orderType.currentText === "market" }
                        Item { Layout.fillWidth: true }
                    }
                    RowLayout {
                        Layout.columnSpan: 4
                        Layout.fillWidth: true
                        Label { text: qsTr("Launch a token") }
                        TextField { id: launchSymbol; objectName: "launchSymbolField"; placeholderText: qsTr("symbol, e.g. WIF"); Layout.preferredWidth: 120 }
                        TextField { id: launchPrice; objectName: "launchPriceField"; placeholderText: qsTr("SOL per token"); text: "0.01"; Layout.preferredWidth: 90 }
                        Button {
                            objectName: "launchButton"
                            text: qsTr("Launch")
                            onClicked: console.launch(launchSymbol.text, "SOL", launchPrice.text)
                        }
                        Label {
                            objectName: "lastLaunch"
                            Layout.fillWidth: true
                            text: console.launches.length > 0 ? console.launches[0] : qsTr("no launch yet")
                            elide: Text.ElideRight
                            opacity: 0.8
                        }
                    }
                    Label { Layout.columnSpan: 4; Layout.fillWidth: true; text: console.lastMessage; elide: Text.ElideRight; opacity: 0.8 }
                }
            }

            GroupBox {
                title: qsTr("Resting orders (%1) — Delete cancels the selected one").arg(restingView.count)
                Layout.fillWidth: true
                Layout.preferredHeight: 120
                ListView {
                    id: restingView
                    objectName: "restingView"
                    anchors.fill: parent
                    clip: true
                    model: console.openOrders
                    keyNavigationEnabled: true
                    highlight: Rectangle { color: pal.highlight; opacity: 0.3 }
                    Keys.onDeletePressed: if (currentIndex >= 0) console.cancel(console.openOrders.orderIdAt(currentIndex))
                    delegate: ItemDelegate {
                        width: restingView.width
                        height: 26
                        onClicked: { restingView.currentIndex = index; restingView.forceActiveFocus() }
                        contentItem: RowLayout {
                            spacing: 8
                            Label { text: model.orderId.substring(0, 8); font.family: "monospace"; font.pixelSize: 11 }
                            Label { text: model.orderType; Layout.preferredWidth: 44 }
                            Label { text: model.pair; Layout.preferredWidth: 100 }
                            Label { text: model.amount; elide: Text.ElideRight; Layout.preferredWidth: 60 }
                            Label { text: model.terms; elide: Text.ElideRight; Layout.fillWidth: true }
                            Button {
                                objectName: "cancelButton"
                                text: qsTr("Cancel")
                                flat: true
                                onClicked: console.cancel(model.orderId)
                            }
                        }
                    }
                }
            }

            GroupBox {
                title: qsTr("Orders (%1)").arg(console.orders.count)
                Layout.fillWidth: true
                Layout.fillHeight: true
                ColumnLayout {
                    anchors.fill: parent
                    ComboBox {
                        objectName: "statusFilter"
                        model: ["", "pending", "open", "routing", "building", "submitted", "confirmed", "failed", "cancelled", "expired"]
                        displayText: currentText === "" ? qsTr("all statuses") : currentText
                        onActivated: console.filteredOrders.status = currentText
                    }
                    ListView {
                        id: ordersView
                        objectName: "ordersView"
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        clip: true
                        model: console.filteredOrders
                        keyNavigationEnabled: true
                        focus: true
                        highlight: Rectangle { color: pal.highlight; opacity: 0.3 }
                        onCurrentIndexChanged: if (currentIndex >= 0) console.selectOrder(console.filteredOrders.orderIdAt(currentIndex))
                        Keys.onDeletePressed: if (currentIndex >= 0) console.cancel(console.filteredOrders.orderIdAt(currentIndex))
                        delegate: ItemDelegate {
                            width: ordersView.width
                            height: 26
                            onClicked: ordersView.currentIndex = index
                            contentItem: RowLayout {
                                spacing: 8
                                Label { text: model.created; font.family: "monospace"; font.pixelSize: 11 }
                                Label { text: model.orderId.substring(0, 8); font.family: "monospace"; font.pixelSize: 11 }
                                Label { text: model.orderType === "market" ? "" : model.orderType; Layout.preferredWidth: 40; font.pixelSize: 11 }
                                Label { text: model.pair; Layout.preferredWidth: 100 }
                                Label { text: model.amount; elide: Text.ElideRight; Layout.preferredWidth: 70 }
                                Rectangle {
                                    Layout.preferredWidth: 78
                                    height: 18
                                    radius: 4
                                    color: window.statusColor(model.status)
                                    Label { anchors.centerIn: parent; text: model.status; color: "white"; font.pixelSize: 11 }
                                }
                                Label { text: model.venue; Layout.preferredWidth: 60 }
                                Label { text: model.terminal ? model.latencyMs.toFixed(0) + " ms" : ""; Layout.preferredWidth: 60 }
                                Label { text: model.error; color: "#dc2626"; elide: Text.ElideRight; Layout.fillWidth: true }
                            }
                        }
                    }
                }
            }

            GroupBox {
                title: console.history.orderId === "" ? qsTr("Select an order to see its history")
                                                      : qsTr("History of %1").arg(console.history.orderId)
                Layout.fillWidth: true
                Layout.preferredHeight: 260
                ListView {
                    id: historyView
                    objectName: "historyView"
                    anchors.fill: parent
                    clip: true
                    model: console.history
                    spacing: 4
                    delegate: RowLayout {
                        width: historyView.width
                        Label { text: "#" + model.seq; font.family: "monospace" }
                        Label { text: model.time; font.family: "monospace"; font.pixelSize: 11 }
                        Rectangle {
                            Layout.preferredWidth: 78
                            height: 18
                            radius: 4
                            color: window.statusColor(model.status)
                            Label { anchors.centerIn: parent; text: model.status; color: "white"; font.pixelSize: 11 }
                        }
                        Label {
                            Layout.fillWidth: true
                            text: model.details
                            font.family: "monospace"
                            font.pixelSize: 10
                            wrapMode: Text.WrapAnywhere
                            maximumLineCount: 8
                            elide: Text.ElideRight
                        }
                    }
                }
            }
        }
    }
}
