package plugins

import "github.com/berth-dev/berth/services/scheduler/framework"

// Plugin names, as a configuration lists them.
const (
	NodeUnschedulableName  = "NodeUnschedulable"
	NodeReadyName          = "NodeReady"
	NodeNameName           = "NodeName"
	TaintTolerationName    = "TaintToleration"
	NodeAffinityName       = "NodeAffinity"
	NodePortsName          = "NodePorts"
	NodeResourcesFitName   = "NodeResourcesFit"
	BalancedAllocationName = "NodeResourcesBalancedAllocation"
	PodTopologySpreadName  = "PodTopologySpread"
	OwnerSpreadName        = "OwnerSpread"
)

// Registry returns every built-in plugin with its default weight.
func Registry() framework.Registry {
	return framework.Registry{
		NodeUnschedulableName:  {New: func() framework.Plugin { return NodeUnschedulable{} }},
		NodeReadyName:          {New: func() framework.Plugin { return NodeReady{} }},
		NodeNameName:           {New: func() framework.Plugin { return NodeName{} }},
		TaintTolerationName:    {New: func() framework.Plugin { return TaintToleration{} }, DefaultWeight: 3},
		NodeAffinityName:       {New: func() framework.Plugin { return NodeAffinity{} }, DefaultWeight: 2},
		NodePortsName:          {New: func() framework.Plugin { return NodePorts{} }},
		NodeResourcesFitName:   {New: func() framework.Plugin { return NodeResourcesFit{} }, DefaultWeight: 1},
		BalancedAllocationName: {New: func() framework.Plugin { return BalancedAllocation{} }, DefaultWeight: 1},
		PodTopologySpreadName:  {New: func() framework.Plugin { return PodTopologySpread{} }, DefaultWeight: 2},
		OwnerSpreadName:        {New: func() framework.Plugin { return OwnerSpread{} }, DefaultWeight: 2},
	}
}

// DefaultConfig is the configuration used when none is given: every built-in plugin.
func DefaultConfig() framework.Config {
	return framework.Config{
		Plugins: framework.Plugins{
			Filter: []framework.PluginRef{
				{Name: NodeUnschedulableName},
				{Name: NodeReadyName},
				{Name: NodeNameName},
				{Name: TaintTolerationName},
				{Name: NodeAffinityName},
				{Name: NodePortsName},
				{Name: NodeResourcesFitName},
				{Name: PodTopologySpreadName},
			},
			Score: []framework.PluginRef{
				{Name: NodeResourcesFitName, Weight: 1},
				{Name: BalancedAllocationName, Weight: 1},
				{Name: TaintTolerationName, Weight: 3},
				{Name: NodeAffinityName, Weight: 2},
				{Name: PodTopologySpreadName, Weight: 2},
				{Name: OwnerSpreadName, Weight: 2},
			},
		},
	}
}

// DefaultFramework is the framework of DefaultConfig.
func DefaultFramework() *framework.Framework {
	f, err := framework.New(DefaultConfig(), Registry())
	if err != nil {
		panic("the default scheduler configuration is invalid: " + err.Error())
	}
	return f
}
