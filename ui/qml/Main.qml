import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtCharts
import Oee 1.0

// The operator console. Everything it shows comes from C++ models of the engine (`console`);
// every action is one of the engine's audited operator actions. The layout reflows: split
// views the operator can drag, tabs where panels would not fit, text that wraps or elides.
ApplicationWindow {
    id: window
    // 1440×900, or the screen where it is smaller (never below the minimum).
    width: Math.max(minimumWidth, Math.min(1440, Screen.desktopAvailableWidth || 1440))
    height: Math.max(minimumHeight, Math.min(900, Screen.desktopAvailableHeight || 900))
    minimumWidth: 1280
    minimumHeight: 800
    visible: true
    title: qsTr("oee — order execution engine")

    SystemPalette { id: pal; colorGroup: SystemPalette.Active }
    readonly property bool dark: pal.window.hslLightness < 0.5
    readonly property color accentRaydium: dark ? "#a78bfa" : "#7c3aed"
    readonly property color accentMeteora: dark ? "#22d3ee" : "#0891b2"
    readonly property color danger: dark ? "#f87171" : "#dc2626"
    readonly property color good: dark ? "#4ade80" : "#16a34a"
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
        case "submitted": return "#d97706"
        case "confirmed": return "#16a34a"
        case "failed": return "#dc2626"
        case "cancelled": return "#6b7280"
        case "open": return "#0891b2"
        case "expired": return "#a16207"
        }
        return "#8a8f98"
    }

    // Every shortcut, listed in the help overlay (F1) from this one table.
    readonly property var shortcutTable: [
        { keys: "F1", what: qsTr("this help") },
        { keys: "Ctrl+Return", what: qsTr("submit the order in the form") },
        { keys: "Ctrl+B", what: qsTr("burst of market orders") },
        { keys: "Ctrl+N", what: qsTr("focus the amount field") },
        { keys: "Ctrl+L", what: qsTr("focus the orders list (arrows move, Delete cancels)") },
        { keys: "Ctrl+R", what: qsTr("retry the selected order (failed only)") },
        { keys: "Ctrl+D", what: qsTr("cancel the selected order (pending or open)") },
        { keys: "Ctrl+Shift+C", what: qsTr("copy the selected order's signature") },
        { keys: "Ctrl+J", what: qsTr("raw JSON in the history") },
        { keys: "Ctrl+P", what: qsTr("pause / resume intake") },
        { keys: "Ctrl+K", what: qsTr("kill switch (asks first)") },
        { keys: "Ctrl+1", what: qsTr("Raydium in / out of routing") },
        { keys: "Ctrl+2", what: qsTr("Meteora in / out of routing") },
        { keys: "Alt+1 … Alt+4", what: qsTr("queue, lifecycles, venues, audit tabs") },
        { keys: "Alt+O / Alt+R", what: qsTr("orders / resting orders") }
    ]
    function submitForm() {
        orderType.currentText === "market"
            ? console.submit(tokenIn.currentText, tokenOut.currentText, amount.text, Number(slippage.text))
            : console.submitOrder(orderType.currentText, tokenIn.currentText, tokenOut.editText,
                                  amount.text, Number(slippage.text), price.text, ttl.value)
    }
    function venueRouting(name) {
        for (const v of console.venues)
            if (v.name === name) return v.routing
        return true
    }

    Shortcut { sequence: "F1"; onActivated: help.open() }
    Shortcut { sequence: "Ctrl+Return"; onActivated: window.submitForm() }
    Shortcut { sequence: "Ctrl+B"; onActivated: burstButton.clicked() }
    Shortcut { sequence: "Ctrl+N"; onActivated: amount.forceActiveFocus() }
    Shortcut { sequence: "Ctrl+L"; onActivated: { ordersTabs.currentIndex = 0; ordersView.forceActiveFocus() } }
    Shortcut { sequence: "Ctrl+R"; onActivated: console.retry(console.history.orderId) }
    Shortcut { sequence: "Ctrl+D"; onActivated: console.cancel(console.history.orderId) }
    Shortcut { sequence: "Ctrl+Shift+C"; onActivated: if (console.history.signature !== "") console.copyText(console.history.signature) }
    Shortcut { sequence: "Ctrl+J"; onActivated: rawToggle.checked = !rawToggle.checked }
    Shortcut { sequence: "Ctrl+P"; onActivated: console.paused ? console.resumeIntake() : console.pauseIntake("") }
    Shortcut { sequence: "Ctrl+K"; onActivated: killDialog.open() }
    Shortcut { sequence: "Ctrl+1"; onActivated: console.setVenueRouting("raydium", !window.venueRouting("raydium")) }
    Shortcut { sequence: "Ctrl+2"; onActivated: console.setVenueRouting("meteora", !window.venueRouting("meteora")) }
    Shortcut { sequence: "Alt+1"; onActivated: bottomTabs.currentIndex = 0 }
    Shortcut { sequence: "Alt+2"; onActivated: bottomTabs.currentIndex = 1 }
    Shortcut { sequence: "Alt+3"; onActivated: bottomTabs.currentIndex = 2 }
    Shortcut { sequence: "Alt+4"; onActivated: bottomTabs.currentIndex = 3 }
    Shortcut { sequence: "Alt+O"; onActivated: ordersTabs.currentIndex = 0 }
    Shortcut { sequence: "Alt+R"; onActivated: ordersTabs.currentIndex = 1 }

    // ---- the control bar: health, intake, kill switch, venues, simulator, help -------------
    header: ToolBar {
        objectName: "controlBar"
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 8
            anchors.rightMargin: 8
            spacing: 8
            Label { text: "oee"; font.bold: true; font.pixelSize: 18 }
            Repeater {
                model: [
                    { name: "Redis", up: console.redisUp, state: console.redisState },
                    { name: "PostgreSQL", up: console.postgresUp, state: console.postgresState }
                ]
                delegate: RowLayout {
                    spacing: 4
                    Layout.maximumWidth: modelData.up ? implicitWidth : 220
                    Rectangle { width: 12; height: 12; radius: 6; color: modelData.up ? window.good : window.danger }
                    Label {
                        Layout.fillWidth: true
                        Layout.minimumWidth: modelData.up ? implicitWidth : 80
                        text: modelData.name + (modelData.up ? "" : " DOWN: " + modelData.state)
                        color: modelData.up ? pal.windowText : window.danger
                        font.bold: !modelData.up
                        elide: Text.ElideRight
                    }
                }
            }
            ToolSeparator {}
            Rectangle {
                objectName: "intakeBadge"
                Layout.preferredWidth: intakeLabel.implicitWidth + 16
                Layout.maximumWidth: 200
                Layout.preferredHeight: 24
                radius: 4
                color: console.paused ? window.danger : window.good
                Label {
                    id: intakeLabel
                    anchors.fill: parent
                    anchors.leftMargin: 8
                    anchors.rightMargin: 8
                    verticalAlignment: Text.AlignVCenter
                    color: "white"
                    font.bold: true
                    elide: Text.ElideRight
                    text: console.paused ? qsTr("PAUSED · %1").arg(console.pausedReason) : qsTr("INTAKE OPEN")
                }
                ToolTip.visible: pauseHover.hovered && console.paused
                ToolTip.text: console.pausedReason
                HoverHandler { id: pauseHover }
            }
            Button {
                objectName: "pauseButton"
                text: console.paused ? qsTr("Resume") : qsTr("Pause")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Ctrl+P — new orders get 503 paused; orders in flight finish")
                onClicked: console.paused ? console.resumeIntake() : console.pauseIntake("")
            }
            Button {
                objectName: "killButton"
                text: qsTr("Kill switch")
                background: Rectangle {
                    implicitWidth: 90
                    implicitHeight: 28
                    radius: 3
                    color: parent.down ? Qt.darker(window.danger, 1.3) : window.danger
                    border.color: parent.activeFocus ? pal.highlight : "transparent"
                    border.width: 2
                }
                contentItem: Label {
                    text: parent.text
                    color: "white"
                    font.bold: true
                    horizontalAlignment: Text.AlignHCenter
                    verticalAlignment: Text.AlignVCenter
                }
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Ctrl+K — pause intake and cancel every order not yet begun")
                onClicked: killDialog.open()
            }
            ToolSeparator {}
            Label { text: qsTr("Routing"); opacity: 0.8 }
            Repeater {
                model: console.venues
                delegate: Switch {
                    required property var modelData
                    objectName: "venueSwitch_" + modelData.name
                    text: modelData.name
                    checked: modelData.routing
                    // The switch shows the engine's state; a click asks the engine.
                    onToggled: { console.setVenueRouting(modelData.name, checked); checked = Qt.binding(() => modelData.routing) }
                }
            }
            ToolSeparator {}
            Label { text: qsTr("Volatility"); opacity: 0.8 }
            TextField {
                id: volatilityField
                objectName: "volatilityField"
                Layout.preferredWidth: 72
                text: console.volatility
                selectByMouse: true
                onAccepted: console.setVolatility(text)
                ToolTip.visible: hovered
                ToolTip.text: qsTr("the simulated reference walk, per √s (Enter sets it)")
            }
            Item { Layout.fillWidth: true }
            Label { text: console.rateLimit; opacity: 0.8; elide: Text.ElideRight; Layout.maximumWidth: 130 }
            ToolButton {
                objectName: "helpButton"
                text: "?"
                font.bold: true
                onClicked: help.open()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("keyboard shortcuts (F1)")
            }
        }
    }

    footer: ToolBar {
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 8
            anchors.rightMargin: 8
            spacing: 16
            Rectangle {
                objectName: "connectionBadge"
                visible: console.remote
                Layout.preferredWidth: connectionLabel.implicitWidth + 16
                Layout.maximumWidth: 520
                Layout.preferredHeight: 20
                radius: 4
                color: console.connected ? window.good : window.danger
                Label {
                    id: connectionLabel
                    anchors.fill: parent
                    anchors.leftMargin: 8
                    anchors.rightMargin: 8
                    verticalAlignment: Text.AlignVCenter
                    color: "white"
                    font.bold: true
                    elide: Text.ElideRight
                    text: (console.connected ? qsTr("REMOTE · ") : qsTr("DISCONNECTED · ")) + console.connectionState
                }
            }
            Label {
                objectName: "lastMessage"
                Layout.fillWidth: true
                text: console.lastMessage
                elide: Text.ElideRight
            }
            Label { text: "REST " + console.restUrl + "   WS " + console.wsUrl; opacity: 0.7; font.pixelSize: 11 }
        }
    }

    Dialog {
        id: killDialog
        objectName: "killDialog"
        anchors.centerIn: parent
        modal: true
        focus: true
        title: qsTr("Kill switch")
        standardButtons: Dialog.Ok | Dialog.Cancel
        Label {
            width: 380
            wrapMode: Text.WordWrap
            text: qsTr("Pause intake and cancel every order that has not begun (resting limit and sniper orders, queued market orders)? Orders already routing finish. Resume intake afterwards with Ctrl+P.")
        }
        onAccepted: console.killSwitch()
    }

    Popup {
        id: help
        objectName: "helpOverlay"
        anchors.centerIn: parent
        modal: true
        focus: true
        padding: 16
        ColumnLayout {
            spacing: 6
            Label { text: qsTr("Keyboard"); font.bold: true; font.pixelSize: 16 }
            GridLayout {
                columns: 2
                columnSpacing: 18
                rowSpacing: 4
                Repeater {
                    model: window.shortcutTable
                    delegate: Label {
                        required property var modelData
                        required property int index
                        Layout.row: index
                        Layout.column: 0
                        text: modelData.keys
                        font.family: "monospace"
                        font.bold: true
                    }
                }
                Repeater {
                    model: window.shortcutTable
                    delegate: Label {
                        required property var modelData
                        required property int index
                        Layout.row: index
                        Layout.column: 1
                        text: modelData.what
                    }
                }
            }
            Label { text: qsTr("Tab moves through every control; Esc closes this."); opacity: 0.7 }
        }
    }

    // A remote engine that went away: said plainly over everything (the data below is stale).
    Rectangle {
        objectName: "disconnectedBanner"
        visible: console.remote && !console.connected
        z: 10
        anchors.horizontalCenter: parent.horizontalCenter
        y: 8
        width: Math.min(parent.width - 40, bannerText.implicitWidth + 32)
        height: bannerText.implicitHeight + 16
        radius: 6
        color: window.danger
        Label {
            id: bannerText
            anchors.centerIn: parent
            width: Math.min(implicitWidth, parent.parent.width - 72)
            elide: Text.ElideRight
            color: "white"
            font.bold: true
            text: qsTr("Not connected to %1 — %2. What is shown may be stale.").arg(console.restUrl).arg(console.connectionState)
        }
    }

    SplitView {
        objectName: "mainSplit"
        anchors.fill: parent
        anchors.margins: 6
        orientation: Qt.Horizontal

        // ---- left: quotes above, queue / lifecycles / venues / audit below ------------------
        SplitView {
            SplitView.preferredWidth: window.width * 0.57
            SplitView.minimumWidth: 560
            orientation: Qt.Vertical

            GroupBox {
                objectName: "quotesPanel"
                title: qsTr("Quotes %1 → %2 (amount %3)").arg(console.quotes.tokenIn).arg(console.quotes.tokenOut).arg(console.quotes.amount)
                SplitView.fillHeight: true
                SplitView.minimumHeight: 260
                ColumnLayout {
                    anchors.fill: parent
                    spacing: 2
                    Flow {
                        Layout.fillWidth: true
                        spacing: 14
                        Label { text: "Raydium " + console.quotes.raydiumPrice.toPrecision(8); color: window.accentRaydium }
                        Label { text: "Meteora " + console.quotes.meteoraPrice.toPrecision(8); color: window.accentMeteora }
                        Label { text: "spread " + console.quotes.spreadBps.toFixed(1) + " bps" }
                        Label {
                            objectName: "chosenVenue"
                            text: "router → " + console.quotes.chosenVenue
                            font.bold: true
                        }
                        Label {
                            opacity: 0.8
                            text: "fee R " + (console.quotes.raydiumFee * 100).toFixed(2) + "% / M "
                                  + (console.quotes.meteoraFee * 100).toFixed(2) + "%"
                        }
                        Label {
                            opacity: 0.8
                            text: "impact R " + (console.quotes.raydiumImpact * 100).toFixed(4) + "% / M "
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
                                    color: modelData.venue === "raydium" ? window.accentRaydium : window.accentMeteora
                                }
                                Row {
                                    visible: modelData.kind === "dlmm"
                                    Layout.fillWidth: true
                                    Layout.preferredHeight: visible ? 24 : 0
                                    spacing: 1
                                    Repeater {
                                        model: modelData.bins || []
                                        delegate: Item {
                                            required property var modelData
                                            width: 4
                                            height: 24
                                            Rectangle {
                                                anchors.bottom: parent.bottom
                                                width: parent.width
                                                height: Math.max(1, parent.height * modelData.h)
                                                color: modelData.active ? "#f59e0b" : window.accentMeteora
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
                        Layout.minimumHeight: 120
                        antialiasing: true
                        legend.visible: true
                        legend.alignment: Qt.AlignTop
                        margins { top: 2; bottom: 2; left: 2; right: 2 }
                        backgroundRoundness: 0
                        theme: window.dark ? ChartView.ChartThemeDark : ChartView.ChartThemeLight
                        DateTimeAxis {
                            id: quoteX
                            format: "hh:mm:ss"
                            tickCount: Math.max(3, Math.min(6, Math.floor(quoteChart.plotArea.width / 110)))
                            min: new Date(console.quotes.windowStart)
                            max: new Date(console.quotes.windowEnd)
                        }
                        // The quotes' range, widened to the limit prices within 2 % of them.
                        readonly property var nearLimits: console.limitLevels.filter(
                            p => Math.abs(p / ((console.quotes.minPrice + console.quotes.maxPrice) / 2) - 1) < 0.02)
                        ValueAxis {
                            id: quoteY
                            min: Math.min(console.quotes.minPrice, ...quoteChart.nearLimits)
                            max: Math.max(console.quotes.maxPrice, ...quoteChart.nearLimits.map(p => p * 1.0002))
                            tickCount: Math.max(3, Math.min(6, Math.floor(quoteChart.plotArea.height / 40)))
                            labelFormat: "%.6g"
                            titleText: qsTr("%1 per %2").arg(console.quotes.tokenOut).arg(console.quotes.tokenIn)
                        }
                        LineSeries { id: raySeries; name: "Raydium"; axisX: quoteX; axisY: quoteY; color: window.accentRaydium; width: console.quotes.chosenVenue === "raydium" ? 3 : 1.5 }
                        LineSeries { id: metSeries; name: "Meteora"; axisX: quoteX; axisY: quoteY; color: window.accentMeteora; width: console.quotes.chosenVenue === "meteora" ? 3 : 1.5 }
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
                                        Rectangle { width: 6; height: 1; color: window.good }
                                    }
                                }
                                Label {
                                    anchors.right: parent.right
                                    anchors.bottom: parent.top
                                    text: qsTr("limit %1").arg(Number(modelData).toPrecision(8))
                                    font.pixelSize: 10
                                    color: window.good
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
                            color: window.good
                        }
                    }
                }
            }

            Pane {
                objectName: "monitorPanel"
                SplitView.preferredHeight: window.height * 0.36
                SplitView.minimumHeight: 210
                padding: 4
                ColumnLayout {
                    anchors.fill: parent
                    spacing: 2
                    TabBar {
                        id: bottomTabs
                        objectName: "bottomTabs"
                        Layout.fillWidth: true
                        currentIndex: console.startTab
                        TabButton { text: qsTr("Queue (%1 waiting)").arg(console.queue.waiting) }
                        TabButton { text: qsTr("Lifecycles") }
                        TabButton { text: qsTr("Venues") }
                        TabButton { text: qsTr("Audit (%1)").arg(console.actions.length) }
                    }
                    StackLayout {
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        currentIndex: bottomTabs.currentIndex

                        // Queue depth over the last 5 minutes.
                        ColumnLayout {
                            spacing: 0
                            Label {
                                Layout.fillWidth: true
                                text: qsTr("waiting %1 · active %2 · delayed %3 · confirmed %4/s · failed %5/s")
                                      .arg(console.queue.waiting).arg(console.queue.active).arg(console.queue.delayed)
                                      .arg(console.queue.confirmedPerSecond).arg(console.queue.failedPerSecond)
                                elide: Text.ElideRight
                                opacity: 0.8
                            }
                            ChartView {
                                id: queueChart
                                objectName: "queueChart"
                                Layout.fillWidth: true
                                Layout.fillHeight: true
                                antialiasing: true
                                legend.alignment: Qt.AlignTop
                                margins { top: 2; bottom: 2; left: 2; right: 2 }
                                backgroundRoundness: 0
                                theme: window.dark ? ChartView.ChartThemeDark : ChartView.ChartThemeLight
                                DateTimeAxis {
                                    id: queueX
                                    format: "hh:mm:ss"
                                    tickCount: Math.max(3, Math.min(6, Math.floor(queueChart.plotArea.width / 110)))
                                    min: new Date(console.queue.windowStart)
                                    max: new Date(console.queue.windowEnd)
                                }
                                ValueAxis {
                                    id: queueY
                                    min: 0
                                    max: console.queue.maxDepth
                                    tickCount: Math.max(2, Math.min(5, Math.floor(queueChart.plotArea.height / 35)))
                                    labelFormat: "%d"
                                    titleText: qsTr("jobs")
                                }
                                LineSeries { id: waitingSeries; name: "waiting"; axisX: queueX; axisY: queueY; color: "#f59e0b" }
                                LineSeries { id: activeSeries; name: "active"; axisX: queueX; axisY: queueY; color: "#3b82f6" }
                                LineSeries { id: delayedSeries; name: "delayed"; axisX: queueX; axisY: queueY; color: "#dc2626" }
                                Component.onCompleted: console.queue.attach(waitingSeries, activeSeries, delayedSeries)
                            }
                        }

                        // One lane per recent order; the distribution of end-to-end latency.
                        RowLayout {
                            spacing: 8
                            ColumnLayout {
                                Layout.fillWidth: true
                                Layout.fillHeight: true
                                spacing: 2
                                RowLayout {
                                    Layout.fillWidth: true
                                    spacing: 10
                                    Label { text: qsTr("1 px = 10 ms"); opacity: 0.8; font.pixelSize: 10; Layout.fillWidth: true; elide: Text.ElideRight }
                                    Repeater {
                                        model: ["pending", "routing", "building", "submitted", "confirmed", "failed"]
                                        delegate: Row {
                                            required property string modelData
                                            spacing: 3
                                            Rectangle { width: 10; height: 10; y: 3; color: window.statusColor(modelData) }
                                            Label { text: modelData; font.pixelSize: 10 }
                                        }
                                    }
                                }
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
                            }
                            ColumnLayout {
                                id: latencyColumn
                                Layout.preferredWidth: 380
                                Layout.fillHeight: true
                                spacing: 2
                                Label { text: qsTr("end-to-end latency: orders per bucket"); opacity: 0.8; font.pixelSize: 11; Layout.fillWidth: true; elide: Text.ElideRight }
                                Row {
                                    id: latencyBars
                                    objectName: "latencyBars"
                                    Layout.fillWidth: true
                                    Layout.fillHeight: true
                                    spacing: 2
                                    readonly property real column: (width - spacing * 10) / 11
                                    Repeater {
                                        model: console.latency
                                        delegate: Column {
                                            width: latencyBars.column
                                            height: latencyBars.height
                                            spacing: 1
                                            Item {
                                                width: parent.width
                                                height: parent.height - 16
                                                Rectangle {
                                                    anchors.bottom: parent.bottom
                                                    anchors.horizontalCenter: parent.horizontalCenter
                                                    width: parent.width * 0.7
                                                    height: console.latency.maxCount > 0 ? (parent.height - 14) * model.count / console.latency.maxCount : 0
                                                    color: "#3b82f6"
                                                }
                                                Label {
                                                    anchors.horizontalCenter: parent.horizontalCenter
                                                    anchors.top: parent.top
                                                    text: model.count
                                                    font.pixelSize: 9
                                                }
                                            }
                                            Label { text: model.label; font.pixelSize: 9; anchors.horizontalCenter: parent.horizontalCenter }
                                        }
                                    }
                                }
                                Label { text: qsTr("upper bound of each bucket, ms (s where marked)"); opacity: 0.6; font.pixelSize: 9; Layout.fillWidth: true; elide: Text.ElideRight }
                            }
                        }

                        // Per venue, live: routes won, fills, volume, failures, slippage, latency.
                        RowLayout {
                            objectName: "venuePanel"
                            spacing: 8
                            Repeater {
                                model: console.venueStats
                                delegate: Frame {
                                    Layout.fillWidth: true
                                    Layout.fillHeight: true
                                    Layout.preferredWidth: 1
                                    padding: 6
                                    GridLayout {
                                        anchors.fill: parent
                                        columns: 2
                                        rowSpacing: 1
                                        columnSpacing: 8
                                        Label {
                                            text: model.name + (model.routing ? "" : qsTr(" — out of routing"))
                                            font.bold: true
                                            color: model.name === "raydium" ? window.accentRaydium : window.accentMeteora
                                            Layout.columnSpan: 2
                                            Layout.fillWidth: true
                                            elide: Text.ElideRight
                                        }
                                        Label { text: qsTr("routes won"); opacity: 0.7 }
                                        Label { text: model.routesWon; Layout.fillWidth: true; elide: Text.ElideRight }
                                        Label { text: qsTr("fills · volume"); opacity: 0.7 }
                                        Label { text: model.fills + " · " + model.volume; Layout.fillWidth: true; elide: Text.ElideRight }
                                        Label { text: qsTr("failed attempts"); opacity: 0.7 }
                                        Label { text: model.failures; color: model.failures > 0 ? window.danger : pal.windowText; Layout.fillWidth: true }
                                        Label { text: qsTr("slippage vs quote"); opacity: 0.7 }
                                        Label { text: model.slippage; Layout.fillWidth: true; elide: Text.ElideRight }
                                        Label { text: qsTr("quote latency"); opacity: 0.7 }
                                        Label { text: model.quoteLatency; Layout.fillWidth: true; elide: Text.ElideRight }
                                        Label { text: qsTr("execution latency"); opacity: 0.7 }
                                        Label { text: model.execLatency; Layout.fillWidth: true; elide: Text.ElideRight }
                                        Label { text: qsTr("slippage vs quote, bps (fills per range)"); opacity: 0.7; font.pixelSize: 10; Layout.columnSpan: 2; Layout.fillWidth: true; elide: Text.ElideRight }
                                        // The realised slippage distribution (bps against the quote).
                                        Row {
                                            Layout.columnSpan: 2
                                            Layout.fillWidth: true
                                            Layout.fillHeight: true
                                            Layout.minimumHeight: 30
                                            spacing: 2
                                            readonly property var buckets: model.slippageBuckets
                            ToolTip.visible: slipHover.hovered
                            ToolTip.text: qsTr("realised slippage against the attempt's quote, in bps (negative: less than quoted)")
                            HoverHandler { id: slipHover }
                                            Repeater {
                                                model: console.venueStats.bucketLabels
                                                delegate: Column {
                                                    required property string modelData
                                                    required property int index
                                                    width: (parent.width - 12) / 7
                                                    height: parent.height
                                                    Item {
                                                        width: parent.width
                                                        height: parent.height - 12
                                                        Rectangle {
                                                            anchors.bottom: parent.bottom
                                                            width: parent.width * 0.8
                                                            anchors.horizontalCenter: parent.horizontalCenter
                                                            readonly property int n: parent.parent.parent.buckets[index] || 0
                                                            height: console.venueStats.maxBucket > 0 ? parent.height * n / console.venueStats.maxBucket : 0
                                                            color: index === 4 ? window.good : "#f59e0b"
                                                        }
                                                    }
                                                    Label { text: modelData; font.pixelSize: 8; anchors.horizontalCenter: parent.horizontalCenter }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }

                        // The audit trail: every operator action, newest first.
                        ListView {
                            id: auditView
                            objectName: "auditView"
                            clip: true
                            model: console.actions
                            ScrollBar.vertical: ScrollBar {}
                            delegate: RowLayout {
                                required property var modelData
                                width: auditView.width - 12
                                spacing: 10
                                Label { text: modelData.time; font.family: "monospace"; font.pixelSize: 11 }
                                Label { text: modelData.action; font.bold: true; Layout.preferredWidth: 90 }
                                Label { text: modelData.target; Layout.preferredWidth: 80; elide: Text.ElideRight }
                                Label { text: modelData.detail; Layout.fillWidth: true; elide: Text.ElideRight }
                                Label { text: modelData.source; opacity: 0.7; Layout.preferredWidth: 110; elide: Text.ElideRight }
                            }
                        }
                    }
                }
            }
        }

        // ---- right: entry, orders, history -------------------------------------------------
        SplitView {
            SplitView.fillWidth: true
            SplitView.minimumWidth: 480
            orientation: Qt.Vertical

            GroupBox {
                objectName: "entryPanel"
                title: qsTr("New order")
                SplitView.minimumHeight: implicitHeight
                SplitView.preferredHeight: implicitHeight
                GridLayout {
                    columns: 6
                    anchors.fill: parent
                    rowSpacing: 4
                    columnSpacing: 6
                    Label { text: qsTr("Type") }
                    ComboBox {
                        id: orderType
                        objectName: "orderTypeBox"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 90
                        model: ["market", "limit", "sniper"]
                    }
                    Label {
                        text: orderType.currentText === "limit" ? qsTr("Limit") : orderType.currentText === "sniper" ? qsTr("Max") : qsTr("Price")
                        opacity: orderType.currentText === "market" ? 0.5 : 1
                    }
                    TextField {
                        id: price
                        objectName: "priceField"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 90
                        enabled: orderType.currentText !== "market"
                        placeholderText: orderType.currentText === "limit" ? qsTr("%1/%2").arg(tokenOut.editText).arg(tokenIn.currentText)
                                         : orderType.currentText === "sniper" ? qsTr("%1 per token").arg(tokenIn.currentText) : ""
                    }
                    Label { text: qsTr("TTL s"); opacity: ttl.enabled ? 1 : 0.5 }
                    SpinBox {
                        id: ttl
                        objectName: "ttlBox"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 90
                        from: 0; to: 86400; value: 0; editable: true
                        enabled: orderType.currentText !== "market"
                        ToolTip.visible: hovered
                        ToolTip.text: qsTr("expiry in seconds; 0: never")
                    }
                    Label { text: qsTr("Pay") }
                    ComboBox {
                        id: tokenIn
                        objectName: "tokenInBox"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 90
                        model: console.tokens
                        currentIndex: 0
                        onActivated: console.quotes.setPair(currentText, tokenOut.editText)
                    }
                    Label { text: qsTr("Receive") }
                    ComboBox {
                        id: tokenOut
                        objectName: "tokenOutBox"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 90
                        model: console.tokens
                        currentIndex: 1
                        // A sniper names a token that does not trade yet.
                        editable: orderType.currentText === "sniper"
                        onActivated: console.quotes.setPair(tokenIn.currentText, currentText)
                    }
                    Label { text: qsTr("Burst") }
                    SpinBox { id: burstCount; Layout.fillWidth: true; Layout.preferredWidth: 90; from: 2; to: 1000; value: 5; editable: true; enabled: orderType.currentText === "market" }
                    Label { text: qsTr("Amount") }
                    TextField {
                        id: amount
                        objectName: "amountField"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 90
                        text: "1.5"
                        validator: DoubleValidator { bottom: 0 }
                        onTextChanged: if (Number(text) > 0) console.quotes.amount = Number(text)
                    }
                    Label { text: qsTr("Slippage") }
                    TextField { id: slippage; objectName: "slippageField"; Layout.fillWidth: true; Layout.preferredWidth: 90; text: "0.01" }
                    Button {
                        id: submitButton
                        objectName: "submitButton"
                        Layout.fillWidth: true
                        text: qsTr("Submit %1").arg(orderType.currentText)
                        highlighted: true
                        enabled: !console.paused
                        onClicked: window.submitForm()
                    }
                    Button {
                        id: burstButton
                        objectName: "burstButton"
                        Layout.fillWidth: true
                        text: qsTr("Burst ×%1").arg(burstCount.value)
                        enabled: orderType.currentText === "market" && !console.paused
                        onClicked: console.burst(burstCount.value, tokenIn.currentText, tokenOut.currentText, amount.text, Number(slippage.text))
                    }
                    Label { text: qsTr("Launch") }
                    TextField { id: launchSymbol; objectName: "launchSymbolField"; placeholderText: qsTr("symbol"); Layout.fillWidth: true; Layout.preferredWidth: 90 }
                    Label { text: qsTr("SOL") }
                    TextField { id: launchPrice; objectName: "launchPriceField"; placeholderText: qsTr("per token"); text: "0.01"; Layout.fillWidth: true; Layout.preferredWidth: 90 }
                    Button {
                        objectName: "launchButton"
                        Layout.fillWidth: true
                        text: qsTr("Launch")
                        onClicked: console.launch(launchSymbol.text, "SOL", launchPrice.text)
                    }
                    Label {
                        objectName: "lastLaunch"
                        Layout.fillWidth: true
                        Layout.preferredWidth: 60
                        text: console.launches.length > 0 ? console.launches[0] : qsTr("no launch yet")
                        elide: Text.ElideRight
                        opacity: 0.8
                        ToolTip.visible: launchHover.hovered
                        ToolTip.text: text
                        HoverHandler { id: launchHover }
                    }
                }
            }

            Pane {
                objectName: "ordersPanel"
                SplitView.fillHeight: true
                SplitView.minimumHeight: 150
                padding: 4
                ColumnLayout {
                    anchors.fill: parent
                    spacing: 2
                    RowLayout {
                        Layout.fillWidth: true
                        TabBar {
                            id: ordersTabs
                            objectName: "ordersTabs"
                            Layout.fillWidth: true
                            TabButton { text: qsTr("Orders (%1)").arg(console.orders.count) }
                            TabButton { text: qsTr("Resting (%1)").arg(restingView.count) }
                        }
                        ComboBox {
                            objectName: "statusFilter"
                            visible: ordersTabs.currentIndex === 0
                            Layout.preferredWidth: 130
                            model: ["", "pending", "open", "routing", "building", "submitted", "confirmed", "failed", "cancelled", "expired"]
                            displayText: currentText === "" ? qsTr("all statuses") : currentText
                            onActivated: console.filteredOrders.status = currentText
                        }
                    }
                    StackLayout {
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        currentIndex: ordersTabs.currentIndex
                        ListView {
                            id: ordersView
                            objectName: "ordersView"
                            clip: true
                            model: console.filteredOrders
                            keyNavigationEnabled: true
                            focus: true
                            ScrollBar.vertical: ScrollBar {}
                            highlight: Rectangle { color: pal.highlight; opacity: 0.3 }
                            onCurrentIndexChanged: if (currentIndex >= 0) console.selectOrder(console.filteredOrders.orderIdAt(currentIndex))
                            Keys.onDeletePressed: if (currentIndex >= 0) console.cancel(console.filteredOrders.orderIdAt(currentIndex))
                            delegate: ItemDelegate {
                                width: ordersView.width - 12
                                height: 24
                                onClicked: ordersView.currentIndex = index
                                contentItem: RowLayout {
                                    spacing: 4
                                    Label { text: model.created.substring(0, 8); font.family: "monospace"; font.pixelSize: 11 }
                                    Label { text: model.orderId.substring(0, 8); font.family: "monospace"; font.pixelSize: 11 }
                                    Label { text: model.orderType === "market" ? "" : model.orderType; Layout.preferredWidth: 36; font.pixelSize: 11; elide: Text.ElideRight }
                                    Label { text: model.pair; Layout.preferredWidth: 80; elide: Text.ElideRight }
                                    Label { text: model.amount; elide: Text.ElideRight; Layout.preferredWidth: 56 }
                                    Rectangle {
                                        Layout.preferredWidth: 72
                                        height: 18
                                        radius: 4
                                        color: window.statusColor(model.status)
                                        Label { anchors.centerIn: parent; text: model.status; color: "white"; font.pixelSize: 11 }
                                    }
                                    Label { text: model.venue; Layout.preferredWidth: 50; font.pixelSize: 11; elide: Text.ElideRight }
                                    Label { text: model.terminal ? model.latencyMs.toFixed(0) + " ms" : ""; Layout.preferredWidth: 54; font.pixelSize: 11; horizontalAlignment: Text.AlignRight; elide: Text.ElideRight }
                                    Label { text: model.error; color: window.danger; elide: Text.ElideRight; Layout.fillWidth: true; Layout.minimumWidth: 0 }
                                }
                            }
                        }
                        ListView {
                            id: restingView
                            objectName: "restingView"
                            clip: true
                            model: console.openOrders
                            keyNavigationEnabled: true
                            ScrollBar.vertical: ScrollBar {}
                            highlight: Rectangle { color: pal.highlight; opacity: 0.3 }
                            Keys.onDeletePressed: if (currentIndex >= 0) console.cancel(console.openOrders.orderIdAt(currentIndex))
                            delegate: ItemDelegate {
                                width: restingView.width - 12
                                height: 26
                                onClicked: { restingView.currentIndex = index; restingView.forceActiveFocus(); console.selectOrder(model.orderId) }
                                contentItem: RowLayout {
                                    spacing: 8
                                    Label { text: model.orderId.substring(0, 8); font.family: "monospace"; font.pixelSize: 11 }
                                    Label { text: model.orderType; Layout.preferredWidth: 44 }
                                    Label { text: model.pair; Layout.preferredWidth: 92; elide: Text.ElideRight }
                                    Label { text: model.amount; elide: Text.ElideRight; Layout.preferredWidth: 56 }
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
                }
            }

            GroupBox {
                objectName: "historyPanel"
                SplitView.preferredHeight: window.height * 0.36
                SplitView.minimumHeight: 170
                label: RowLayout {
                    x: 8
                    width: parent.width - 16
                    spacing: 8
                    Label {
                        Layout.fillWidth: true
                        text: console.history.orderId === "" ? qsTr("History — select an order")
                                                             : qsTr("History of %1 (%2)").arg(console.history.orderId.substring(0, 8)).arg(console.history.status)
                        font.bold: true
                        elide: Text.ElideRight
                    }
                    Button {
                        objectName: "historyCancel"
                        text: qsTr("Cancel")
                        flat: true
                        visible: console.history.status === "pending" || console.history.status === "open"
                        onClicked: console.cancel(console.history.orderId)
                    }
                    Button {
                        objectName: "historyRetry"
                        text: qsTr("Retry")
                        flat: true
                        visible: console.history.status === "failed"
                        onClicked: console.retry(console.history.orderId)
                    }
                    Button {
                        objectName: "copySignature"
                        text: qsTr("Copy signature")
                        flat: true
                        visible: console.history.signature !== ""
                        onClicked: console.copyText(console.history.signature)
                    }
                    Switch {
                        id: rawToggle
                        objectName: "rawToggle"
                        text: qsTr("raw JSON")
                    }
                }
                ListView {
                    id: historyView
                    objectName: "historyView"
                    anchors.fill: parent
                    clip: true
                    model: console.history
                    spacing: 6
                    ScrollBar.vertical: ScrollBar {}
                    delegate: ColumnLayout {
                        width: historyView.width - 12
                        spacing: 2
                        RowLayout {
                            Layout.fillWidth: true
                            spacing: 6
                            Label { text: "#" + model.seq; font.family: "monospace" }
                            Label { text: model.time; font.family: "monospace"; font.pixelSize: 11 }
                            Rectangle {
                                Layout.preferredWidth: 72
                                height: 18
                                radius: 4
                                color: window.statusColor(model.status)
                                Label { anchors.centerIn: parent; text: model.status; color: "white"; font.pixelSize: 11 }
                            }
                            Label {
                                objectName: "historyHeadline"
                                Layout.fillWidth: true
                                text: model.headline
                                font.bold: true
                                wrapMode: Text.Wrap
                            }
                        }
                        // The step's facts: label, value; signatures and ids copyable.
                        Flow {
                            Layout.fillWidth: true
                            Layout.leftMargin: 24
                            spacing: 14
                            visible: !rawToggle.checked
                            Repeater {
                                model: facts
                                delegate: Row {
                                    required property var modelData
                                    spacing: 4
                                    Label { text: modelData.label; opacity: 0.7; font.pixelSize: 11 }
                                    Label {
                                        text: modelData.copy ? modelData.value.substring(0, 12) + (modelData.value.length > 12 ? "…" : "") : modelData.value
                                        font.pixelSize: 11
                                        font.family: modelData.copy ? "monospace" : ""
                                    }
                                    ToolButton {
                                        visible: modelData.copy
                                        text: qsTr("copy")
                                        font.pixelSize: 10
                                        height: 18
                                        padding: 2
                                        onClicked: console.copyText(modelData.value)
                                    }
                                }
                            }
                        }
                        // Candidate routes side by side (routing steps).
                        GridLayout {
                            objectName: "routesTable"
                            Layout.fillWidth: true
                            Layout.leftMargin: 24
                            visible: !rawToggle.checked && routes.length > 0
                            columns: 6
                            rowSpacing: 0
                            columnSpacing: 8
                            Repeater {
                                model: routes.length > 0 ? ["venue", "route", "out", "fees", "impact", "share"] : []
                                delegate: Label { required property string modelData; text: modelData; opacity: 0.6; font.pixelSize: 10 }
                            }
                            Repeater {
                                model: routes.length * 6
                                delegate: Label {
                                    required property int index
                                    readonly property var route: routes[Math.floor(index / 6)]
                                    readonly property int column: index % 6
                                    Layout.fillWidth: column === 1 || column === 3
                                    Layout.preferredWidth: column === 1 ? 120 : column === 3 ? 90 : -1
                                    text: column === 0 ? route.venue
                                        : column === 1 ? route.type + " " + route.pools
                                        : column === 2 ? (route.error !== "" ? route.error : route.out)
                                        : column === 3 ? route.fees
                                        : column === 4 ? route.impact : route.share
                                    font.pixelSize: 10
                                    font.bold: route.chosen
                                    elide: Text.ElideRight
                                    color: route.error !== "" ? window.danger : pal.windowText
                                }
                            }
                        }
                        Label {
                            objectName: "rawJson"
                            Layout.fillWidth: true
                            Layout.leftMargin: 24
                            visible: rawToggle.checked
                            text: model.details
                            font.family: "monospace"
                            font.pixelSize: 10
                            wrapMode: Text.WrapAnywhere
                        }
                    }
                }
            }
        }
    }
}
